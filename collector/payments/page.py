"""What a customer's payment page shows: the one document its token names, and the ways
to pay it that its profile allows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from collector.accounts import creditor, entities
from collector.accounts.models import Creditor
from collector.core import clock
from collector.core.attributes import from_attributes
from collector.direct_debit import signing
from collector.direct_debit.debits import (
    announcement,
    creditor_for,
    earliest_collection,
    pending_collection,
)
from collector.documents import amounts
from collector.documents.models import Invoice, InvoiceState
from collector.documents.references import structured_reference
from collector.extensions import db
from collector.payments import checkout
from collector.payments.models import OnlinePayment
from collector.teamleader.connection import department_names

TOKEN_LENGTH = 43  # secrets.token_urlsafe(32)
TOKEN_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

# Where the document stands, as the page tells it.
DUE, PENDING, PAID, NOTHING_DUE = "due", "pending", "paid", "nothing_due"

# The provider's statuses after the customer came back from its checkout.
PROCESSING = frozenset({"open", "pending", "authorized"})
NOT_THROUGH = frozenset({"failed", "canceled", "expired"})
PROCESSING_NOTICE = _l("Your payment is being processed.")
NOT_THROUGH_NOTICE = _l("The payment did not go through. You can try again.")

# Why "Pay online" is refused when it was not on the page (an old tab, a crafted POST).
REFUSALS = {
    PAID: _l("This invoice has been paid. Thank you."),
    PENDING: _l("A collection is under way for this invoice."),
    NOTHING_DUE: _l("Nothing is due on this document."),
}
DIRECT_DEBIT_REFUSAL = _l("This invoice will be collected by direct debit.")
NOT_ONLINE = _l("This document cannot be paid online.")


@dataclass(frozen=True)
class BankTransfer:
    """What the customer types into their banking app."""

    beneficiary: str
    iban: str  # grouped by four, as printed
    bic: str | None
    amount: Decimal
    currency: str
    reference: str


@dataclass(frozen=True)
class Payee:
    """Who the customer deals with: the document's company entity as its creditor shows
    itself (its own, else the company default)."""

    name: str
    address_lines: list[str]
    email: str
    phone: str
    has_logo: bool


@dataclass(frozen=True)
class PaymentView:
    """Only what the customer may see, and which ways to pay are offered. The document's
    number, dates, currency and amount due are its ``Invoice`` attributes of those names."""

    creditor: str
    number: str
    is_credit_note: bool
    invoice_date: date
    due_date: date | None
    currency: str
    total_excl_vat: Decimal
    total_vat: Decimal
    total_incl_vat: Decimal
    amount_due: Decimal
    # Paid or credited already (the total less what is due), when any.
    settled: Decimal | None
    payee: Payee
    standing: str  # DUE, PENDING, PAID or NOTHING_DUE
    paid_on: date | None
    # The document's reference among its facts, when no bank transfer block shows it.
    reference: str | None
    direct_debit_on: date | None
    pay_online: bool
    bank_transfer: BankTransfer | None
    notice: str | None
    has_pdf: bool
    token: str
    # An online payment the customer made is still being processed by the provider.
    processing: bool = False
    # The customer's portal (all their open documents), for the page's link to it.
    portal_token: str | None = None
    # The customer's signing page, when they could pay by direct debit from now on.
    mandate_link: str | None = None

    @property
    def state(self) -> str:
        """What the page's state line says: paid, processing, open or closed."""
        if self.standing == PAID:
            return "paid"
        if self.standing == PENDING or self.processing:
            return "processing"
        return "closed" if self.standing == NOTHING_DUE else "open"


def find(token: str) -> Invoice | None:
    """The document behind ``token``, or None; malformed tokens never reach the database."""
    if len(token) != TOKEN_LENGTH or not set(token) <= TOKEN_ALPHABET:
        return None
    return db.session.scalars(db.select(Invoice).where(Invoice.payment_token == token)).first()


def direct_debit_date(invoice: Invoice, today: date | None = None) -> date | None:
    """The day a direct debit collects ``invoice``: the collection's under way, else the
    day the latest mail announced (its mandate still active); None if none is scheduled."""
    pending = pending_collection(invoice)
    if pending is not None:
        return pending.collection_date
    found = announcement(invoice)
    if found is None or found.mandate.profile_id != invoice.profile_id:
        return None
    # Announced, but no run took it by that day: the next run collects it as soon as it can.
    return max(found.on, earliest_collection(today or clock.local_today()))


def view(
    invoice: Invoice,
    *,
    online_available: bool,
    returned: bool = False,
    direct_debit: Callable[[Invoice], date | None] = direct_debit_date,
) -> PaymentView:
    """The page's facts for ``invoice``; ``online_available``: a provider is configured;
    ``returned``: the customer is back from the provider's checkout."""
    online = checkout.latest(invoice) if returned else None
    standing, paid_on = _standing(invoice, online)
    profile = invoice.profile
    due = standing == DUE and profile is not None
    # A collection under way is shown whatever the profile says now.
    debits = standing == PENDING or (due and profile.allow_direct_debit)
    debit_on = direct_debit(invoice) if debits else None
    offers = due and debit_on is None
    payee = creditor_for(invoice)
    name = entities.payee_name(payee, department_names(), invoice.department_id)
    bank = None
    if offers and profile.allow_bank_transfer and payee is not None and payee.iban:
        bank = _bank_transfer(invoice, name, payee.iban, payee.bic)
    # Teamleader's payable is the total less withheld taxes: what payments settle.
    settled = (invoice.payable or invoice.total_incl_vat) - invoice.amount_due
    return from_attributes(
        PaymentView,
        invoice,
        creditor=name,
        payee=_payee(payee, name),
        settled=settled if settled > 0 and not invoice.is_credit_note else None,
        standing=standing,
        paid_on=paid_on,
        reference=structured_reference(invoice) if standing == DUE and not bank else None,
        direct_debit_on=debit_on,
        pay_online=offers and online_available and profile.allow_payment_link,
        bank_transfer=bank,
        notice=_notice(online, standing),
        processing=standing != PAID and online is not None and online.status in PROCESSING,
        has_pdf=invoice.pdf_available,
        token=invoice.payment_token,
        portal_token=invoice.customer.portal_token if invoice.customer else None,
        mandate_link=signing.offer_for(invoice) if due and debit_on is None else None,
    )


def logo_of(invoice: Invoice, store) -> tuple[bytes, str] | None:
    """The logo of the creditor ``invoice``'s page shows, with its media type, or None."""
    return entities.logo(creditor_for(invoice), store)


def _payee(payee: Creditor | None, name: str) -> Payee:
    if payee is None:
        return Payee(name=name, address_lines=[], email="", phone="", has_logo=False)
    return Payee(
        name=name,
        address_lines=payee.address_lines,
        email=payee.contact_email,
        phone=payee.contact_phone,
        has_logo=bool(payee.logo_key),
    )


def online_refusal(page: PaymentView) -> str | None:
    """Why ``page`` offers no online payment (a message for the customer), or None."""
    if page.pay_online:
        return None
    if page.direct_debit_on is not None:
        return DIRECT_DEBIT_REFUSAL
    return REFUSALS.get(page.standing, NOT_ONLINE)


def _standing(invoice: Invoice, online: OnlinePayment | None) -> tuple[str, date | None]:
    """Where the document stands for the customer, and the day it was paid if known."""
    if invoice.state == InvoiceState.PAID:
        paid_at = amounts.last_paid_at(invoice) or invoice.state_changed_at
        return PAID, clock.local_date(paid_at)
    # The provider's fetched record, not the browser, says the payment went through;
    # the ledger may settle the document a moment later.
    if online is not None and online.status == "paid":
        return PAID, clock.local_date(online.paid_at) if online.paid_at else None
    closed = invoice.state == InvoiceState.ARCHIVED or invoice.is_credit_note
    if closed or invoice.amount_due <= 0:
        return NOTHING_DUE, None
    if invoice.state == InvoiceState.PENDING:
        return PENDING, None
    return DUE, None


def _notice(online: OnlinePayment | None, standing: str) -> str | None:
    if online is None or standing == PAID:
        return None
    if online.status in PROCESSING:
        return PROCESSING_NOTICE
    if online.status in NOT_THROUGH:
        return NOT_THROUGH_NOTICE
    return None


def _bank_transfer(invoice: Invoice, name: str, iban: str, bic: str | None) -> BankTransfer:
    return BankTransfer(
        beneficiary=name,
        iban=creditor.grouped(iban),
        bic=bic or None,
        amount=invoice.amount_due,
        currency=invoice.currency,
        reference=structured_reference(invoice),
    )
