"""Paying online: a checkout at the payment provider, and what its answers mean here.

The provider's webhook carries only a payment id. Nothing it or the customer's browser
says is trusted: the payment is fetched from the provider and only that record is
applied (``apply``) — to the ledger, through the state machine. Refunds and
chargebacks arrive the same way (the provider calls the webhook again) and are read
from the same fetch.

A checkout is started under the document's lock and sent with an ``Idempotency-Key``
(``checkout_key``), so a double click, a second tab or a retry after a lost answer makes
one payment. Money paid beyond what was due is an overpayment (``overpayments``); an
admin may give it back through the provider (``refund_overpayment``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from collector.core.columns import utcnow
from collector.core.errors import Conflict
from collector.core.money import ZERO
from collector.documents import amounts, ledger, overpayments, timeline
from collector.documents.ledger import PAYABLE
from collector.documents.models import Invoice, Overpayment, Payment, PaymentKind, PaymentSource
from collector.extensions import db
from collector.payments import NotFound as ProviderNotFound
from collector.payments import (
    PaymentRequest,
    ProviderClient,
    ProviderError,
    provider_status,
    split,
    wording,
)
from collector.payments.models import OnlinePayment
from collector.runtime.wordings import money_value, says

log = logging.getLogger(__name__)

PAYMENT_ID = re.compile(r"^tr_[A-Za-z0-9]{1,60}$")
# A checkout the customer opened a moment ago is offered again rather than a second one.
REUSE_OPEN_FOR = timedelta(minutes=10)
SETTLED_REFUND = ("queued", "pending", "processing", "refunded")


class CheckoutRefused(Exception):
    """No checkout now; the message is safe to show the customer (written in the current
    locale: theirs on the payment page), ``status`` for HTTP."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.status = status


def latest(invoice: Invoice) -> OnlinePayment | None:
    """The document's most recent online payment, if any."""
    return db.session.scalars(
        db.select(OnlinePayment)
        .where(OnlinePayment.invoice_id == invoice.id)
        .order_by(OnlinePayment.id.desc())
        .limit(1)
    ).first()


def known(provider_id: str) -> bool:
    """Whether ``provider_id`` is a payment started here (webhooks for others are ignored)."""
    if not PAYMENT_ID.match(provider_id or ""):
        return False
    query = db.select(OnlinePayment.id).where(OnlinePayment.provider_id == provider_id)
    return db.session.scalar(query) is not None


def start_checkout(
    provider: ProviderClient, invoice: Invoice, *, redirect_url: str, webhook_url: str
) -> str:
    """Return the checkout URL for what is due: the document's open checkout for that
    amount if there is one, else a new payment at the provider. Decided under the
    document's lock, so two clicks at once make one checkout. Commits."""
    locked = ledger.lock(invoice.id)
    try:
        _refuse_unless_payable(locked)
        reused = _reusable(locked)
        online = reused or _create(
            provider, locked, redirect_url=redirect_url, webhook_url=webhook_url
        )
    except CheckoutRefused as exc:
        db.session.rollback()  # frees the lock at once
        if isinstance(exc.__cause__, ProviderError):
            # A refused key or webhook address stops every checkout: admins must see it.
            provider_status.refused(exc.__cause__)
        raise
    db.session.commit()
    if reused is None:
        provider_status.created()
    if not online.checkout_url:
        raise CheckoutRefused(_("The payment provider gave no checkout page."), status=503)
    return online.checkout_url


def checkout_key(invoice: Invoice, amount: Decimal, previous: OnlinePayment | None) -> str:
    """The Idempotency-Key of a new checkout: the same for every try of one attempt (an
    answer lost on the way back, a click while it was under way), a new one once that
    attempt's payment is recorded — so after it failed, expired, was cancelled or was for
    another amount. The Teamleader id, not our row id, names the document: ids repeat
    across databases that may share one provider account."""
    after = previous.id if previous is not None else 0
    return f"checkout-{invoice.teamleader_id}-{amount:f}{invoice.currency}-after-{after}"


def _reusable(invoice: Invoice) -> OnlinePayment | None:
    """The latest checkout if the customer may still pay it for what is due now."""
    online = latest(invoice)
    if (
        online is not None
        and online.status == "open"
        and online.amount == invoice.amount_due
        and online.checkout_url
        and utcnow() - online.created_at < REUSE_OPEN_FOR
    ):
        return online
    return None


def _refuse_unless_payable(invoice: Invoice | None) -> None:
    if invoice is None or invoice.is_credit_note:
        raise CheckoutRefused(_("Nothing is due on this document."))
    if invoice.state not in PAYABLE or invoice.amount_due <= ZERO:
        raise CheckoutRefused(_("Nothing is due on this document."))
    if invoice.profile is None or not invoice.profile.allow_payment_link:
        raise CheckoutRefused(_("This document cannot be paid online."))


def _create(
    provider: ProviderClient, invoice: Invoice, *, redirect_url: str, webhook_url: str
) -> OnlinePayment:
    """A new payment of what is due at the provider, recorded with its key and an event."""
    key = checkout_key(invoice, invoice.amount_due, latest(invoice))
    try:
        request = PaymentRequest(
            invoice.amount_due,
            invoice.currency,
            f"Invoice {invoice.number}",
            redirect_url,
            webhook_url,
            metadata={"invoice_id": invoice.id},
        )
        record = provider.create_payment(request, idempotency_key=key)
    except ProviderError as exc:
        problem = provider_status.refusal(exc)
        log.log(
            logging.ERROR if problem else logging.WARNING,
            "the payment provider refused a checkout for invoice %s: %s",
            invoice.id,
            exc,
        )
        raise CheckoutRefused(
            _("Paying online is not possible right now. Please try again in a few minutes."),
            status=503,
        ) from exc
    online = OnlinePayment(
        invoice=invoice,
        provider_id=record["id"],
        idempotency_key=key,
        amount=record["amount"],
        currency=record["currency"],
        status=record["status"],
        checkout_url=record.get("checkout_url"),
    )
    db.session.add(online)
    timeline.record(
        invoice,
        timeline.ONLINE_PAYMENT,
        says(
            wording.STARTED,
            online=record["id"],
            amount=money_value(record["amount"], record["currency"]),
        ),
        actor="customer",
        provider_id=record["id"],
    )
    return online


def refresh_latest(provider: ProviderClient, invoice: Invoice) -> OnlinePayment | None:
    """The customer is back from the checkout: fetch the latest payment and apply it."""
    online = latest(invoice)
    if online is None:
        return None
    try:
        return refresh(provider, online.provider_id)
    except ProviderError as exc:
        # The webhook's job will apply it; the customer just sees the page as it is.
        log.warning("fetching payment %s on return failed: %s", online.provider_id, exc)
        raise CheckoutRefused(_("The payment provider does not answer."), status=503) from exc


def refresh(
    provider: ProviderClient,
    provider_id: str,
    *,
    handled: Callable[[OnlinePayment], object] | None = None,
    note_answer: bool = True,
) -> OnlinePayment | None:
    """Fetch payment ``provider_id`` and apply what the fetch says; None (and a log line)
    when the id is not one of ours. Raises the provider's errors for the job to retry.

    ``handled(online)`` runs in the transaction that applies the fetch, before it commits:
    the webhook's job marks its notification handled there, one commit instead of two.
    ``note_answer=False``: the caller notes that the key works (a drain, once a batch)."""
    if not PAYMENT_ID.match(provider_id or ""):
        log.warning("provider webhook with a malformed payment id ignored")
        return None
    query = db.select(OnlinePayment).where(OnlinePayment.provider_id == provider_id)
    documents = joinedload(OnlinePayment.documents)  # in the same read
    online = db.session.scalars(query.options(documents)).unique().one_or_none()
    if online is None:
        log.warning("provider webhook for unknown payment %s ignored", provider_id)
        return None
    paid_before = online.paid_at is not None or online.status == "paid"  # else no reversal
    known_kinds = amounts.reversal_kinds(split.keys_of(provider_id)) if paid_before else set()
    try:
        record = provider.get_payment(
            provider_id,
            refunds=PaymentKind.REFUND in known_kinds,
            chargebacks=PaymentKind.CHARGEBACK in known_kinds,
        )
    except ProviderNotFound:
        log.warning("payment %s is unknown to the provider; ignored", provider_id)
        return None
    except ProviderError as exc:
        if provider_status.refusal(exc) is not None:
            # A refused key is every payment's problem, not this one's: admins must see it.
            db.session.rollback()
            provider_status.refused(exc)
        raise
    apply(online.id, record, handled=handled)
    if note_answer:
        provider_status.answered()
    return online


def apply(
    online_id: int, record: dict, *, handled: Callable[[OnlinePayment], object] | None = None
) -> None:
    """Apply a fetched provider record to its document, under the document's lock (and
    ``handled``, see ``refresh``, before the commit)."""
    online = db.session.get(OnlinePayment, online_id)
    invoice = split.lock_documents(online) if online.documents else ledger.lock(online.invoice_id)
    # What a concurrent apply may have changed, read again under the lock (its list of
    # documents is fixed when it is made: not read again).
    db.session.refresh(online, ["status", "paid_at", "amount_refunded", "amount_charged_back"])
    before = online.status
    paid_before = online.paid_at is not None or before == "paid"
    online.status = record["status"]
    online.paid_at = record.get("paid_at")
    online.amount_refunded = record.get("amount_refunded") or ZERO
    online.amount_charged_back = record.get("amount_charged_back") or ZERO
    online.fetched_at = utcnow()
    if record.get("paid_at") is not None:
        _apply_paid(invoice, online, record, paid_before)
    elif record["status"] != before and record["status"] in ("failed", "canceled", "expired"):
        split.tell_ended(online, invoice, record["status"])
    if handled is not None:
        handled(online)
    db.session.commit()


def _apply_paid(invoice: Invoice, online: OnlinePayment, record: dict, paid_before: bool) -> None:
    if online.documents:  # several documents paid at once from the portal
        split.record_paid(online, record)
        return
    key = f"provider:{online.provider_id}"
    # Read first only if it may be recorded: the ledger refuses a key twice anyway.
    known = amounts.by_key(key) if paid_before else None
    payment = known or ledger.record_payment(
        invoice,
        key=key,
        amount=record["amount"],
        occurred_at=record["paid_at"],
        source=PaymentSource.PROVIDER,
        actor="provider",
        reference=online.provider_id,
    )
    if payment is None:  # recorded by a concurrent delivery a moment ago
        payment = amounts.by_key(key)
    for refund in record.get("refunds") or []:
        _apply_reversal(
            payment,
            f"provider:{refund['id']}",
            PaymentKind.REFUND,
            refund,
            stands=refund.get("status") in SETTLED_REFUND,
            reason=wording.REFUNDED,
        )
    for chargeback in record.get("chargebacks") or []:
        _apply_reversal(
            payment,
            f"provider:{chargeback['id']}",
            PaymentKind.CHARGEBACK,
            chargeback,
            stands=chargeback.get("reversed_at") is None,
            reason=chargeback.get("reason_description") or wording.CHARGED_BACK,
            code=chargeback.get("reason_code"),
        )


def _apply_reversal(payment, key, kind, item: dict, *, stands: bool, reason: str, code=None):
    existing = amounts.by_key(key)
    if existing is None and stands:
        ledger.record_reversal(
            payment,
            key=key,
            kind=kind,
            amount=item["amount"],
            occurred_at=item.get("created_at") or utcnow(),
            actor="provider",
            reason_code=code,
            reason=reason,
            reference=item["id"],
        )
    elif existing is not None and not stands:
        ledger.cancel_entry(existing, says(wording.UNDONE[kind]), actor="provider")


# -- giving an overpayment back ---------------------------------------------------------------


def refund_overpayment(provider: ProviderClient, invoice: Invoice, *, actor: str) -> Overpayment:
    """Refund the document's open overpayment through an online payment that can carry
    it, and record the refund in the ledger. The caller holds the document's lock and
    commits; a refusal (``Conflict``) has changed nothing here."""
    row = overpayments.waiting_for(invoice)
    found = refundable(invoice, row.amount)
    if found is None:
        raise Conflict(
            f"No online payment of {invoice.number} can carry a refund of {row.amount} "
            f"{row.currency}. Give it back by other means, then keep it with that reason."
        )
    online, payment = found
    try:
        refund = provider.create_refund(
            online.provider_id,
            row.amount,
            row.currency,
            f"Overpayment of invoice {invoice.number}",
            idempotency_key=refund_key(invoice, row),
        )
    except ProviderError as exc:
        log.warning("the payment provider refused a refund for invoice %s: %s", invoice.id, exc)
        raise Conflict(
            "The payment provider refused the refund or did not answer; nothing was refunded. "
            "Try again in a few minutes."
        ) from exc
    if refund["status"] not in SETTLED_REFUND:
        raise Conflict(f"The payment provider did not take the refund ({refund['status']}).")
    overpayments.refunded(row, online, refund["id"], actor=actor)
    ledger.record_reversal(
        payment,
        key=f"provider:{refund['id']}",
        kind=PaymentKind.REFUND,
        amount=refund["amount"],
        occurred_at=refund["created_at"],
        actor=actor,
        reason=wording.OVERPAYMENT_REFUNDED,
        reference=refund["id"],
    )
    return row


def refundable(invoice: Invoice, amount: Decimal) -> tuple[OnlinePayment, Payment] | None:
    """The newest paid online payment of the document of which at least ``amount`` still
    stands in the ledger, with its ledger row; None when there is none."""
    paid = db.session.scalars(
        db.select(OnlinePayment)
        .where(OnlinePayment.invoice_id == invoice.id, OnlinePayment.status == "paid")
        .order_by(OnlinePayment.id.desc())
    )
    for online in paid:
        payment = amounts.by_key(f"provider:{online.provider_id}")
        if payment is not None and payment.counts and amounts.net(payment) >= amount:
            return online, payment
    return None


def refund_key(invoice: Invoice, row: Overpayment) -> str:
    """The Idempotency-Key of an overpayment's refund: a retry after a lost answer gets
    the refund the first try made, never a second one."""
    return f"refund-{invoice.teamleader_id}-overpayment-{row.id}-{row.amount:f}{row.currency}"
