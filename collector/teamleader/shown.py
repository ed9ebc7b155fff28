"""What Teamleader shows of a document's payments (status, due, paid at), kept on the
document: noted when read, and derived when we register a payment, since
``invoices.registerPayment`` answers 204 and nothing more (reference §6.5).

The derivation is Teamleader's own rule (the sandbox follows it): the due drops by what
was paid and stops at zero; at zero the invoice is settled ("matched") and paid at its
latest payment. A change made by hand meanwhile is caught by the next read (a webhook,
the sweep's ``check_invoices``), which notes what Teamleader really shows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from collector.core.money import ZERO, round_cents
from collector.documents import timeline
from collector.documents.models import Invoice
from collector.runtime.wordings import money_value, says
from collector.teamleader.wording import SHOWS, SHOWS_DUE

# (status, due, paid at), as Teamleader's invoices.info gives them.
Shown = tuple[str | None, Decimal | None, datetime | None]


def of_info(info: dict) -> Shown:
    """What an ``invoices.info`` answer shows."""
    return info.get("status"), (info.get("total") or {}).get("due"), info.get("paid_at")


def of_invoice(invoice: Invoice) -> Shown:
    """What was last noted on the document."""
    return invoice.teamleader_status, invoice.teamleader_due, invoice.teamleader_paid_at


def after_registering(shown: Shown, registered: list[tuple[Decimal, datetime]]) -> Shown:
    """What Teamleader shows once the ``registered`` (amount, paid at) are added."""
    status, due, paid_at = shown
    if not registered or due is None:
        return shown
    due = max(Decimal(str(due)) - sum(round_cents(a) for a, _ in registered), ZERO)
    if due == ZERO:
        # Teamleader keeps whole seconds of the paid_at we send (``bodies.iso_datetime``).
        latest = max(when for _, when in registered).astimezone(UTC).replace(microsecond=0)
        return "matched", due, max(paid_at, latest) if paid_at is not None else latest
    return status, due, paid_at


def note_payment_state(invoice: Invoice, status, due, paid_at) -> str | None:
    """Keep what Teamleader shows (status, due, paid at) on the document, and record a
    change on its timeline; returns the message when something changed."""
    if (status, due, paid_at) == (
        invoice.teamleader_status,
        invoice.teamleader_due,
        invoice.teamleader_paid_at,
    ):
        return None
    invoice.teamleader_status = status or invoice.teamleader_status
    invoice.teamleader_paid_at = paid_at
    # Teamleader's own word for its state ("matched", "outstanding"), as it gave it.
    message = says(SHOWS, status=status)
    if due is not None:
        invoice.teamleader_due = Decimal(str(due))
        # Teamleader's JSON may give 0.0: the amount is read as Decimal before it is shown.
        due_value = money_value(invoice.teamleader_due, invoice.currency)
        message = says(SHOWS_DUE, status=status, due=due_value)
    timeline.record(
        invoice,
        timeline.TEAMLEADER_PAYMENT,
        message,
        actor="teamleader",
        status=status,
        due=None if due is None else str(due),
        paid_at=paid_at.isoformat() if paid_at else None,
    )
    return message.english


def stored(entries: list[tuple[Decimal, date]]) -> list[list[str]]:
    """Teamleader's payments (amount, day) as a sync row keeps them (JSON), in one order."""
    return [[f"{amount:f}", day.isoformat()] for amount, day in sorted(entries)]


def loaded(entries: list[list[str]]) -> list[tuple[Decimal, date]]:
    """The (amount, day) pairs a sync row keeps, sorted."""
    return sorted((Decimal(amount), date.fromisoformat(day)) for amount, day in entries)
