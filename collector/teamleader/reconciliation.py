"""Teamleader's payments of a document, kept in line with ours — both ways.

One comparison does all of it (``reconcile``): read the invoice's ``payments[]``, tell
which entries are ours (same amount and day as one of our payments) and which were
registered in Teamleader by hand; mirror the latter here as payments with source
"Teamleader" (never sent back); then, when asked to push, register what Teamleader
lacks or — when it holds one of ours that was refunded or charged back, since it has
no per-payment delete (reference §6.5) — remove all and re-register what still stands.

Reading before writing is what makes delivery safe to repeat: after a crash between
Teamleader's answer and our commit, the next attempt finds the payment there and
registers nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from collector.core.money import round_cents
from collector.documents import amounts, ledger, timeline
from collector.documents.models import Invoice, Payment, PaymentKind, PaymentSource
from collector.extensions import db
from collector.teamleader import TeamleaderClient, outbox


def _day(when: datetime | date) -> date:
    # Teamleader may answer paid_at in the account's time zone, or (unverified) as a
    # date only: the UTC day is the finest grain both sides surely agree on.
    if isinstance(when, datetime):
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC).date()
    return when


def _entry(amount: Decimal, when: datetime | date) -> tuple[Decimal, date]:
    # Teamleader's amounts are compared with ours to the cent, by the one rounding rule.
    return round_cents(amount), _day(when)


@dataclass
class Comparison:
    """Teamleader's entries against our payments."""

    held: Decimal = Decimal("0.00")  # what Teamleader holds of ours, as it should
    missing: list[Payment] = field(default_factory=list)  # ours that Teamleader lacks
    stale: bool = False  # Teamleader holds one of ours that no longer stands as it is
    foreign: list[tuple[Decimal, date]] = field(default_factory=list)  # made in Teamleader

    @property
    def in_line(self) -> bool:
        return not self.missing and not self.stale


def compare(invoice: Invoice, entries: list[tuple[Decimal, date]]) -> Comparison:
    """Match Teamleader's ``entries`` with our payments by amount and day.

    An entry matches one of our payments at its net amount (as it should stand) or at
    its original amount (registered before a partial refund): the latter is stale.
    """
    result = Comparison()
    left = Counter(entries)
    for payment in amounts.ours(invoice):
        amount = amounts.net(payment)
        want = _entry(amount, payment.occurred_at) if amount > 0 else None
        original = _entry(payment.amount, payment.occurred_at)
        if want is not None and left[want] > 0:
            left[want] -= 1
            result.held += want[0]
        elif left[original] > 0:
            left[original] -= 1
            result.stale = True
            if want is not None:
                result.missing.append(payment)
        elif want is not None:
            result.missing.append(payment)
    result.foreign = sorted(left.elements())
    return result


def reconcile(
    client: TeamleaderClient,
    invoice: Invoice,
    *,
    push: bool,
    payment_method_id: str | None = None,
) -> str:
    """Bring the document and (with ``push``) Teamleader in line; returns what was done.

    Raises the client's errors; the caller decides whether to retry."""
    sync = outbox.sync_row(invoice)
    info = client.invoices_info(invoice.teamleader_id)
    comparison = compare(invoice, _entries(info))
    # Teamleader's due first: the payments mirrored next are already counted in it.
    _note_teamleader_view(invoice, info, comparison)
    # While a remove-all is being undone, what is missing was removed by us.
    _mirror(invoice, comparison.foreign, cancel_missing=not sync.restoring)
    done = "nothing to change"
    if push and (sync.restoring or not comparison.in_line):
        if comparison.stale and not sync.restoring:
            sync.restoring = True
            db.session.commit()
            client.invoices_remove_payments(invoice.teamleader_id)
            info = client.invoices_info(invoice.teamleader_id)
        if sync.restoring:
            count = _register_missing(client, invoice, _standing(invoice), info, payment_method_id)
            sync.restoring = False
            done = f"payments removed and {count} standing one(s) registered again"
        else:
            wanted = [(amounts.net(p), p.occurred_at) for p in comparison.missing]
            count = _register_missing(client, invoice, wanted, {}, payment_method_id)
            done = f"{count} payment(s) registered"
        info = client.invoices_info(invoice.teamleader_id)
        comparison = compare(invoice, _entries(info))
        _note_teamleader_view(invoice, info, comparison)
    ledger.settle(invoice, "Teamleader's payments changed.", actor="teamleader")
    if not push and not comparison.in_line:
        return done + "; Teamleader lacks payments received here"
    return done


def _register_missing(client, invoice, wanted, info: dict, method_id: str | None) -> int:
    """Register each of ``wanted`` that ``info``'s payments do not hold already."""
    present = Counter(_entries(info))
    count = 0
    for amount, when in wanted:
        entry = _entry(amount, when)
        if present[entry] > 0:
            present[entry] -= 1
            continue
        client.invoices_register_payment(
            invoice.teamleader_id, amount, invoice.currency, when, payment_method_id=method_id
        )
        count += 1
    return count


def _entries(info: dict) -> list[tuple[Decimal, date]]:
    """Teamleader's payments (the client's shape: ``{paid_at, amount, currency}``)."""
    entries = []
    for item in info.get("payments") or []:
        if item.get("amount") is None or item.get("paid_at") is None:
            continue  # tolerate a half-filled entry rather than fail the whole document
        entries.append(_entry(item["amount"], item["paid_at"]))
    return entries


def _standing(invoice: Invoice) -> list[tuple[Decimal, datetime]]:
    """What Teamleader should hold after a remove-all: our payments at their net
    amount and the ones made in Teamleader by hand that still stand."""
    items = [(amounts.net(p), p.occurred_at) for p in amounts.ours(invoice)]
    items += [(p.amount, p.occurred_at) for p in _mirrored(invoice)]
    return [(amount, when) for amount, when in items if amount > 0]


def _mirrored(invoice: Invoice) -> list[Payment]:
    return [
        p
        for p in invoice.payments
        if p.source == PaymentSource.TEAMLEADER and p.kind == PaymentKind.PAYMENT and p.counts
    ]


def _mirror(invoice: Invoice, foreign: list[tuple[Decimal, date]], *, cancel_missing: bool) -> None:
    """Payments registered in Teamleader by hand become ours to show, source Teamleader;
    those that left Teamleader stop counting. Keys are stable across reads: amount,
    day and the rank among equal entries."""
    seen = Counter()
    keys = set()
    for amount, day in foreign:
        seen[(amount, day)] += 1
        key = f"teamleader:{invoice.teamleader_id}:{amount}:{day.isoformat()}:{seen[(amount, day)]}"
        keys.add(key)
        existing = amounts.by_key(key)
        if existing is not None:
            ledger.restore_entry(
                existing, "Payment registered in Teamleader again.", actor="teamleader"
            )
            continue
        occurred = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
        ledger.record_payment(
            invoice,
            key=key,
            amount=amount,
            occurred_at=occurred,
            source=PaymentSource.TEAMLEADER,
            actor="teamleader",
        )
    for payment in _mirrored(invoice) if cancel_missing else []:
        if payment.key not in keys:
            ledger.cancel_entry(payment, "Payment removed in Teamleader", actor="teamleader")


def _note_teamleader_view(invoice: Invoice, info: dict, comparison: Comparison) -> None:
    total = info.get("total") or {}
    due = total.get("due")
    note_payment_state(invoice, info.get("status"), due, info.get("paid_at"))
    outbox.sync_row(invoice).held = comparison.held


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
    if due is not None:
        invoice.teamleader_due = Decimal(str(due))
    message = f"Teamleader shows it {status}, {due} {invoice.currency} due."
    timeline.record(
        invoice,
        timeline.TEAMLEADER_PAYMENT,
        message,
        actor="teamleader",
        status=status,
        due=None if due is None else str(due),
        paid_at=paid_at.isoformat() if paid_at else None,
    )
    return message


def refresh(client: TeamleaderClient, invoice: Invoice) -> str:
    """A payment was registered or removed in Teamleader: re-read it and update the
    document here (source "Teamleader"); nothing is sent back."""
    if invoice.kind != "invoice":
        return f"{invoice.number} is a credit note: Teamleader has no payments on it."
    invoice = ledger.lock(invoice.id)
    outcome = reconcile(client, invoice, push=False)
    db.session.commit()
    return f"{invoice.number}: {outcome}"
