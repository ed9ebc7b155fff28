"""A checkout for several documents of one customer at once (the customer portal): one
payment at the provider for the sum of what is open on them, split over them when it is
paid (``split``, where the rule is written down).

Like a single document's checkout (``checkout.start_checkout``) it is decided under the
documents' locks and sent with an ``Idempotency-Key`` that names the attempt, so a double
click makes one payment; an open checkout for the same documents and amount, made a
moment ago, is offered again. The payment's metadata lists the documents' ids (Mollie
keeps up to 1 KB of metadata: ``MAX_DOCUMENTS`` keeps well inside it); the rows of
``OnlinePaymentDocument`` are what the webhook's fetch is matched to, never the metadata.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from collector.core.columns import utcnow
from collector.core.money import ZERO
from collector.documents import ledger, timeline
from collector.documents.ledger import PAYABLE
from collector.documents.models import Invoice, InvoiceState
from collector.extensions import db
from collector.payments import PaymentRequest, ProviderClient, ProviderError, provider_status
from collector.payments.checkout import REUSE_OPEN_FOR, CheckoutRefused
from collector.payments.models import OnlinePayment, OnlinePaymentDocument
from collector.payments.split import in_order, started_text

log = logging.getLogger(__name__)

# 50 ids of up to ten digits and the keys around them stay far below Mollie's 1 KB.
MAX_DOCUMENTS = 50
MAX_DESCRIPTION = 255  # Mollie's limit on a payment's description


def start(
    provider: ProviderClient,
    customer_id: int,
    invoice_ids: Sequence[int],
    *,
    redirect_url: str,
    webhook_url: str,
) -> str:
    """Return the checkout URL of one payment for what is open on ``invoice_ids`` (all the
    customer's, one currency, each payable online). Commits; ``CheckoutRefused`` says why
    not, in the customer's words."""
    wanted = sorted(set(invoice_ids))
    if not wanted:
        raise CheckoutRefused(_("Tick the invoices you want to pay."), status=400)
    if len(wanted) > MAX_DOCUMENTS:
        raise CheckoutRefused(
            _("Pay at most %(num)s invoices at once.", num=MAX_DOCUMENTS), status=400
        )
    locked = [ledger.lock(invoice_id) for invoice_id in wanted]  # in id order
    try:
        documents = in_order(_payable(locked, customer_id))
        reused = _reusable(documents)
        online = reused or _create(
            provider, documents, redirect_url=redirect_url, webhook_url=webhook_url
        )
    except CheckoutRefused as exc:
        db.session.rollback()
        if isinstance(exc.__cause__, ProviderError):
            provider_status.refused(exc.__cause__)
        raise
    db.session.commit()
    if reused is None:
        provider_status.created()
    if not online.checkout_url:
        raise CheckoutRefused(_("The payment provider gave no checkout page."), status=503)
    return online.checkout_url


def _payable(locked: list[Invoice | None], customer_id: int) -> list[Invoice]:
    """The documents, checked: the customer's own, open, payable online, one currency."""
    if any(i is None or i.customer_id != customer_id for i in locked):
        raise CheckoutRefused(_("A selected invoice is not yours to pay."), status=404)
    for invoice in locked:
        if invoice.is_credit_note or invoice.state not in PAYABLE or invoice.amount_due <= ZERO:
            raise CheckoutRefused(
                _("Invoice %(number)s has nothing left to pay.", number=invoice.number)
            )
        if invoice.state == InvoiceState.PENDING:
            raise CheckoutRefused(
                _("A collection is under way for invoice %(number)s.", number=invoice.number)
            )
        if invoice.profile is None or not invoice.profile.allow_payment_link:
            raise CheckoutRefused(
                _("Invoice %(number)s cannot be paid online.", number=invoice.number)
            )
    if len({invoice.currency for invoice in locked}) > 1:
        raise CheckoutRefused(_("Pay invoices in one currency at a time."), status=400)
    return list(locked)


def _total(documents: list[Invoice]) -> Decimal:
    return sum((invoice.amount_due for invoice in documents), ZERO)


def _reusable(documents: list[Invoice]) -> OnlinePayment | None:
    """The open checkout made a moment ago for exactly these documents and amounts."""
    first = documents[0]
    candidate = db.session.scalars(
        sa.select(OnlinePayment)
        .where(OnlinePayment.invoice_id == first.id, OnlinePayment.status == "open")
        .order_by(OnlinePayment.id.desc())
        .limit(1)
    ).first()
    if candidate is None or not candidate.checkout_url:
        return None
    if utcnow() - candidate.created_at >= REUSE_OPEN_FOR:
        return None
    same = [(p.invoice_id, p.amount) for p in candidate.documents]
    return candidate if same == [(i.id, i.amount_due) for i in documents] else None


def attempt_key(documents: list[Invoice], total: Decimal) -> str:
    """The Idempotency-Key of a new checkout for ``documents``: the same for every try of
    one attempt, a new one once a payment of any of them was made here since."""
    names = ",".join(sorted(invoice.teamleader_id for invoice in documents))
    digest = hashlib.sha256(names.encode()).hexdigest()[:32]
    ids = [invoice.id for invoice in documents]
    previous = db.session.scalar(
        sa.select(sa.func.max(OnlinePayment.id)).where(
            OnlinePayment.invoice_id.in_(ids)
            | OnlinePayment.id.in_(
                sa.select(OnlinePaymentDocument.online_payment_id).where(
                    OnlinePaymentDocument.invoice_id.in_(ids)
                )
            )
        )
    )
    currency = documents[0].currency
    return f"checkout-several-{digest}-{total:f}{currency}-after-{previous or 0}"


def description(documents: list[Invoice]) -> str:
    """What the customer's bank statement shows: the invoices' numbers, as many as fit."""
    numbers = [invoice.number for invoice in documents]
    text = "Invoices " + ", ".join(numbers)
    if len(text) <= MAX_DESCRIPTION:
        return text
    suffix = f" and {len(numbers)} more"
    while numbers and len("Invoices " + ", ".join(numbers) + suffix) > MAX_DESCRIPTION:
        numbers.pop()
        suffix = f" and {len(documents) - len(numbers)} more"
    return "Invoices " + ", ".join(numbers) + suffix


def _create(
    provider: ProviderClient, documents: list[Invoice], *, redirect_url: str, webhook_url: str
) -> OnlinePayment:
    total = _total(documents)
    currency = documents[0].currency
    key = attempt_key(documents, total)
    request = PaymentRequest(
        total,
        currency,
        description(documents),
        redirect_url,
        webhook_url,
        metadata={"invoice_ids": [invoice.id for invoice in documents]},
    )
    try:
        record = provider.create_payment(request, idempotency_key=key)
    except ProviderError as exc:
        log.warning(
            "the payment provider refused a checkout of %s documents: %s", len(documents), exc
        )
        raise CheckoutRefused(
            _("Paying online is not possible right now. Please try again in a few minutes."),
            status=503,
        ) from exc
    online = OnlinePayment(
        invoice=documents[0],
        provider_id=record["id"],
        idempotency_key=key,
        amount=record["amount"],
        currency=record["currency"],
        status=record["status"],
        checkout_url=record.get("checkout_url"),
    )
    db.session.add(online)
    for position, invoice in enumerate(documents):
        part = OnlinePaymentDocument(position=position, invoice=invoice, amount=invoice.amount_due)
        online.documents.append(part)
    text = started_text(online)
    for invoice in documents:
        timeline.record(
            invoice,
            timeline.ONLINE_PAYMENT,
            text,
            actor="customer",
            provider_id=record["id"],
        )
    return online
