"""Teamleader's payments of a document, kept in line with ours — both ways.

One comparison does all of it (``reconcile``): read the invoice's ``payments[]``, tell
which entries are ours (same amount and day as one of our payments) and which were
registered in Teamleader by hand; mirror the latter here as payments with source
"Teamleader" (never sent back); then, when asked to push, register what Teamleader
lacks or — when it holds one of ours that was refunded or charged back, since it has
no per-payment delete (reference §6.5) — remove all and re-register what still stands.

A payment costs one call. What Teamleader holds is known without reading it: each
delivery records on the sync row, in the commit that ends it, what it registered on top
of what was there (``TeamleaderSync.entries``). Exactly once holds because that record
is trusted only when it is complete: a delivery's claim (committed before any write)
counts itself in ``unsettled``, and only its recorded outcome clears it. After a crash
or a timeout between Teamleader's answer and our commit the count stays up, and the next
delivery reads before it writes, finds the payment there and registers nothing. A read
made for another reason (a webhook, the sweep) that finds Teamleader changed by someone
else forgets the record, so the next delivery reads too.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from collector.core.money import round_cents
from collector.documents import amounts, ledger
from collector.documents.models import Invoice, Payment, PaymentKind, PaymentSource
from collector.extensions import db
from collector.runtime.wordings import says
from collector.teamleader import TeamleaderClient, outbox, shown
from collector.teamleader.shown import note_payment_state
from collector.teamleader.wording import PAYMENTS_CHANGED, REGISTERED_AGAIN, REMOVED


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
    trusted: bool = False,
) -> str:
    """Bring the document and (with ``push``) Teamleader in line; returns what was done.

    ``trusted``: a delivery that holds the sync row and whose every earlier delivery
    recorded its outcome, so the row's ``entries`` are what Teamleader holds of ours:
    what is missing is registered without reading first (one call per payment). Without
    it, or when the entries are unknown or something must be removed, Teamleader is
    read first. Either way nothing is read after writing (``shown``).

    Raises the client's errors; the caller decides whether to retry."""
    sync = outbox.sync_row(invoice)
    if push and trusted and sync.entries is not None and not sync.restoring:
        known = shown.loaded(sync.entries)
        comparison = compare(invoice, known)
        if not comparison.stale:
            counted = _teamleader_counts(invoice)
            done = _push_missing(
                client, invoice, comparison, known, shown.of_invoice(invoice), payment_method_id
            )
            if _teamleader_counts(invoice) != counted:
                ledger.settle(invoice, says(PAYMENTS_CHANGED), actor="teamleader")
            return done
    info = client.invoices_info(invoice.teamleader_id)
    entries = _entries(info)
    comparison = compare(invoice, entries)
    # Teamleader's due first: the payments mirrored next are already counted in it.
    note_payment_state(invoice, *shown.of_info(info))
    sync.held = comparison.held
    # While a remove-all is being undone, what is missing was removed by us.
    _mirror(invoice, comparison.foreign, cancel_missing=not sync.restoring)
    done = "nothing to change"
    if not push:
        if sync.entries is not None and shown.loaded(sync.entries) != sorted(entries):
            sync.entries = None  # changed by someone else: the next delivery reads first
        ledger.settle(invoice, says(PAYMENTS_CHANGED), actor="teamleader")
        return done if comparison.in_line else done + "; Teamleader lacks payments received here"
    sync.entries = shown.stored(entries)
    if comparison.stale and not sync.restoring:
        sync.restoring = True
        db.session.commit()
        client.invoices_remove_payments(invoice.teamleader_id)
        info = client.invoices_info(invoice.teamleader_id)
        entries = _entries(info)
    if sync.restoring:
        registered = _register_missing(
            client, invoice, _standing(invoice), entries, payment_method_id
        )
        _note_registered(invoice, shown.of_info(info), entries, registered)
        sync.restoring = False
        done = f"payments removed and {len(registered)} standing one(s) registered again"
    elif not comparison.in_line:
        done = _push_missing(
            client, invoice, comparison, entries, shown.of_info(info), payment_method_id
        )
    ledger.settle(invoice, says(PAYMENTS_CHANGED), actor="teamleader")
    return done


def _push_missing(client, invoice, comparison: Comparison, entries, before, method_id) -> str:
    """Register our payments that Teamleader lacks, and note what it holds and shows."""
    wanted = [(amounts.net(p), p.occurred_at) for p in comparison.missing]
    registered = _register_missing(client, invoice, wanted, [], method_id)
    _note_registered(invoice, before, entries, registered)
    return f"{len(registered)} payment(s) registered" if registered else "nothing to change"


def _note_registered(invoice: Invoice, before: shown.Shown, entries, registered) -> None:
    """Teamleader held ``entries`` and showed ``before``; we added ``registered``."""
    entries = [*entries, *(_entry(amount, when) for amount, when in registered)]
    note_payment_state(invoice, *shown.after_registering(before, registered))
    sync = outbox.sync_row(invoice)
    sync.held = compare(invoice, entries).held
    sync.entries = shown.stored(entries)


def _teamleader_counts(invoice: Invoice) -> tuple:
    """What ``amounts.still_due`` reads of Teamleader: its due and what it holds of ours.
    Registering ours lowers the one by what it raises the other, so what is due here
    moves only when the due was unknown or stopped at zero; then the ledger settles."""
    held = outbox.sync_row(invoice).held
    if invoice.teamleader_due is None:
        return None, held
    return invoice.teamleader_due + held, None


def _register_missing(client, invoice, wanted, present: list, method_id: str | None) -> list:
    """Register each of ``wanted`` that the ``present`` entries do not hold already;
    returns those registered."""
    left = Counter(present)
    registered = []
    for amount, when in wanted:
        entry = _entry(amount, when)
        if left[entry] > 0:
            left[entry] -= 1
            continue
        client.invoices_register_payment(
            invoice.teamleader_id, amount, invoice.currency, when, payment_method_id=method_id
        )
        registered.append((amount, when))
    return registered


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
            ledger.restore_entry(existing, says(REGISTERED_AGAIN), actor="teamleader")
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
            ledger.cancel_entry(payment, says(REMOVED), actor="teamleader")


def refresh(client: TeamleaderClient, invoice: Invoice) -> str:
    """A payment was registered or removed in Teamleader: re-read it and update the
    document here (source "Teamleader"); nothing is sent back."""
    if invoice.kind != "invoice":
        return f"{invoice.number} is a credit note: Teamleader has no payments on it."
    invoice = ledger.lock(invoice.id)
    outcome = reconcile(client, invoice, push=False)
    db.session.commit()
    return f"{invoice.number}: {outcome}"
