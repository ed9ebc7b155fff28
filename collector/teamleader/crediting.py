"""Offsetting credit notes against the invoice they credit (DESIGN §1.3).

Credit notes are never collected: they lower what their invoice asks. Fully credited,
an open invoice is archived; an invoice archived that way opens again when a credit
note goes.
"""

from __future__ import annotations

from datetime import date

from collector.core import clock
from collector.documents import amounts, ledger, overpayments, timeline
from collector.documents.amounts import credited_total
from collector.documents.models import Invoice, InvoiceState
from collector.runtime.wordings import money_value, says
from collector.teamleader.drafts import total_amount
from collector.teamleader.wording import ARCHIVED_BY_CREDIT, CREDITED, OPEN_AGAIN, PAID_WITH_CREDIT

OPEN = (InvoiceState.BOOKED, InvoiceState.EXPIRED)


def apply_credit(
    invoice: Invoice,
    fresh: dict | None,
    actor: str,
    import_id: int | None,
    *,
    today: date | None = None,
) -> None:
    """Recompute what is still due on ``invoice`` from its credit notes here and, when
    given, Teamleader's current view of it (list shape). Fully credited, an open invoice
    is archived; an invoice archived that way opens again when a credit note goes."""
    credited = credited_total(invoice)
    total = (fresh or {}).get("total") or {}
    if fresh is not None:
        if total:
            invoice.payable = total_amount(total, "payable", "tax_inclusive")
        if total.get("due") is not None:
            invoice.teamleader_due = total["due"]
        invoice.teamleader_status = fresh.get("status")
        invoice.teamleader_updated_at = fresh.get("updated_at")
    before = invoice.amount_due
    reopens = invoice.state == InvoiceState.ARCHIVED and _archived_by_credit(invoice)
    if invoice.state in OPEN or reopens:
        amounts.recompute_due(invoice, credited)
    timeline.record(
        invoice,
        timeline.CREDITED,
        says(
            CREDITED,
            credited=money_value(credited, invoice.currency),
            due=money_value(invoice.amount_due, invoice.currency),
        ),
        actor=actor,
        credited=str(credited),
        amount_due_before=str(before),
        amount_due=str(invoice.amount_due),
        import_id=import_id,
    )
    payable = invoice.payable if invoice.payable is not None else invoice.total_incl_vat
    if invoice.state in OPEN and invoice.amount_due <= 0 and credited >= payable:
        ledger.transition(
            invoice,
            InvoiceState.ARCHIVED,
            says(ARCHIVED_BY_CREDIT),
            actor=actor,
            import_id=import_id,
        )
    elif invoice.state in OPEN and invoice.amount_due <= 0:
        # Part credited, the rest paid: settled, not closed without payment.
        ledger.transition(
            invoice, InvoiceState.PAID, says(PAID_WITH_CREDIT), actor=actor, import_id=import_id
        )
    elif reopens and invoice.amount_due > 0:
        state = ledger.open_state(invoice, today or clock.local_today())
        ledger.transition(
            invoice,
            state,
            says(OPEN_AGAIN),
            actor=actor,
            import_id=import_id,
        )
    # A credit note on a document paid already leaves money the customer may want back.
    overpayments.track(invoice, amounts.overpaid(invoice, credited), actor=actor)


def _archived_by_credit(invoice: Invoice) -> bool:
    """Whether the invoice's last state change was archiving it as fully credited."""
    changes = [e for e in invoice.events if e.kind == timeline.STATE_CHANGED]
    return bool(changes) and changes[-1].message == ARCHIVED_BY_CREDIT
