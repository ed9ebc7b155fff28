"""Paying online: a checkout at the payment provider, and what its answers mean here.

The provider's webhook carries only a payment id. Nothing it or the customer's browser
says is trusted: the payment is fetched from the provider and only that record is
applied (``apply``) — to the ledger, through the state machine. Refunds and
chargebacks arrive the same way (the provider calls the webhook again) and are read
from the same fetch.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from collector.extensions import db
from collector.models import Invoice, OnlinePayment, PaymentKind, PaymentSource
from collector.models.types import utcnow
from collector.payments import NotFound as ProviderNotFound
from collector.payments import ProviderClient, ProviderError
from collector.services import events, lifecycle
from collector.services.lifecycle import PAYABLE, ZERO

log = logging.getLogger(__name__)

PAYMENT_ID = re.compile(r"^tr_[A-Za-z0-9]{1,60}$")
# A checkout the customer opened a moment ago is offered again rather than a second one.
REUSE_OPEN_FOR = timedelta(minutes=10)
SETTLED_REFUND = ("queued", "pending", "processing", "refunded")


class CheckoutRefused(Exception):
    """No checkout now; the message is safe to show the customer, ``status`` for HTTP."""

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
    """Create a payment of what is due and return the provider's checkout URL."""
    if invoice.is_credit_note or invoice.state not in PAYABLE or invoice.amount_due <= ZERO:
        raise CheckoutRefused("Nothing is due on this document.")
    if invoice.profile is None or not invoice.profile.allow_payment_link:
        raise CheckoutRefused("This document cannot be paid online.")
    reusable = latest(invoice)
    if (
        reusable is not None
        and reusable.status == "open"
        and reusable.amount == invoice.amount_due
        and reusable.checkout_url
        and utcnow() - reusable.created_at < REUSE_OPEN_FOR
    ):
        return reusable.checkout_url
    try:
        record = provider.create_payment(
            invoice.amount_due,
            invoice.currency,
            f"Invoice {invoice.number}",
            redirect_url,
            webhook_url,
            metadata={"invoice_id": invoice.id},
        )
    except ProviderError as exc:
        log.warning("the payment provider refused a checkout for invoice %s: %s", invoice.id, exc)
        raise CheckoutRefused(
            "Paying online is not possible right now. Please try again in a few minutes.",
            status=503,
        ) from exc
    online = OnlinePayment(
        invoice=invoice,
        provider_id=record["id"],
        amount=record["amount"],
        currency=record["currency"],
        status=record["status"],
        checkout_url=record.get("checkout_url"),
    )
    db.session.add(online)
    events.record(
        invoice,
        events.ONLINE_PAYMENT,
        f"Online payment {record['id']} of {record['amount']} {record['currency']} started.",
        actor="customer",
        provider_id=record["id"],
    )
    db.session.commit()
    if not online.checkout_url:
        raise CheckoutRefused("The payment provider gave no checkout page.", status=503)
    return online.checkout_url


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
        raise CheckoutRefused("The payment provider does not answer.", status=503) from exc


def refresh(provider: ProviderClient, provider_id: str) -> OnlinePayment | None:
    """Fetch payment ``provider_id`` and apply what the fetch says; None (and a log line)
    when the id is not one of ours. Raises the provider's errors for the job to retry."""
    if not PAYMENT_ID.match(provider_id or ""):
        log.warning("provider webhook with a malformed payment id ignored")
        return None
    online = db.session.scalars(
        db.select(OnlinePayment).where(OnlinePayment.provider_id == provider_id)
    ).one_or_none()
    if online is None:
        log.warning("provider webhook for unknown payment %s ignored", provider_id)
        return None
    try:
        record = provider.get_payment(provider_id)
    except ProviderNotFound:
        log.warning("payment %s is unknown to the provider; ignored", provider_id)
        return None
    apply(online.id, record)
    return db.session.get(OnlinePayment, online.id)


def apply(online_id: int, record: dict) -> None:
    """Apply a fetched provider record to its document, under the document's lock."""
    online = db.session.get(OnlinePayment, online_id)
    invoice = lifecycle.lock(online.invoice_id)
    db.session.refresh(online)
    before = online.status
    online.status = record["status"]
    online.paid_at = record.get("paid_at")
    online.amount_refunded = record.get("amount_refunded") or ZERO
    online.amount_charged_back = record.get("amount_charged_back") or ZERO
    online.fetched_at = utcnow()
    if record.get("paid_at") is not None:
        _apply_paid(invoice, online, record)
    elif record["status"] != before and record["status"] in ("failed", "canceled", "expired"):
        events.record(
            invoice,
            events.ONLINE_PAYMENT,
            f"Online payment {online.provider_id} {record['status']}.",
            actor="provider",
            provider_id=online.provider_id,
        )
    db.session.commit()


def _apply_paid(invoice: Invoice, online: OnlinePayment, record: dict) -> None:
    key = f"provider:{online.provider_id}"
    payment = lifecycle.by_key(key) or lifecycle.record_payment(
        invoice,
        key=key,
        amount=record["amount"],
        occurred_at=record["paid_at"],
        source=PaymentSource.PROVIDER,
        actor="provider",
        reference=online.provider_id,
    )
    if payment is None:  # recorded by a concurrent delivery a moment ago
        payment = lifecycle.by_key(key)
    for refund in record.get("refunds") or []:
        _apply_reversal(
            payment,
            f"provider:{refund['id']}",
            PaymentKind.REFUND,
            refund,
            stands=refund.get("status") in SETTLED_REFUND,
            reason="Refunded through the payment provider",
        )
    for chargeback in record.get("chargebacks") or []:
        _apply_reversal(
            payment,
            f"provider:{chargeback['id']}",
            PaymentKind.CHARGEBACK,
            chargeback,
            stands=chargeback.get("reversed_at") is None,
            reason=chargeback.get("reason_description") or "Charged back by the customer's bank",
            code=chargeback.get("reason_code"),
        )


def _apply_reversal(payment, key, kind, item: dict, *, stands: bool, reason: str, code=None):
    existing = lifecycle.by_key(key)
    if existing is None and stands:
        lifecycle.record_reversal(
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
        what = "Chargeback reversed" if kind == PaymentKind.CHARGEBACK else "Refund cancelled"
        lifecycle.cancel_entry(existing, what, actor="provider")
