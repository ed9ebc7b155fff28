"""What a customer's portal shows: their open invoices, open credit notes and recently
paid documents, grouped by the company entity that issued them (each with its own name,
logo, address, contact and bank details), and their direct-debit mandates.

Only the customer's own documents are read; nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa

from collector.accounts import creditor, entities
from collector.accounts.models import Creditor
from collector.core import clock
from collector.core.money import ZERO
from collector.direct_debit import debits
from collector.direct_debit.mandates import customer_mandates
from collector.direct_debit.models import MandateStatus
from collector.documents.ledger import PAYABLE
from collector.documents.models import Customer, DocumentKind, Invoice, InvoiceState
from collector.documents.references import structured_reference
from collector.dunning import policy
from collector.dunning.models import HoldReason
from collector.extensions import db
from collector.payments.split import order_key
from collector.portal import links
from collector.teamleader.connection import department_names

ROW_ID_LIMIT = 2**31
# Paid documents stay on the portal this long after they were settled.
RECENTLY_PAID = timedelta(days=90)


@dataclass(frozen=True)
class Line:
    """One document as the portal lists it."""

    id: int
    number: str
    invoice_date: date
    due_date: date | None
    currency: str
    total: Decimal
    open: Decimal  # still to pay (an open credit note: what it credits)
    overdue: bool
    state: str  # "open", "overdue", "pending" (a collection under way), "paid", "credit"
    has_pdf: bool
    payable_online: bool
    reference: str | None
    on_hold: str | None  # "promise" or "disputed": what the customer (or the team) said
    paid_on: date | None = None


@dataclass(frozen=True)
class Branding:
    """Who the customer deals with for one entity's documents."""

    key: str  # the department id, "" for documents of no entity
    name: str
    address_lines: list[str]
    email: str
    phone: str
    has_logo: bool
    iban: str | None
    bic: str | None
    creditor_identifier: str | None


@dataclass
class Group:
    """One company entity's documents."""

    branding: Branding
    open: list[Line] = field(default_factory=list)
    credits: list[Line] = field(default_factory=list)
    paid: list[Line] = field(default_factory=list)

    def total_open(self) -> dict[str, Decimal]:
        """What is open per currency."""
        totals: dict[str, Decimal] = {}
        for line in self.open:
            totals[line.currency] = totals.get(line.currency, ZERO) + line.open
        return totals

    @property
    def can_pay_online(self) -> bool:
        return any(line.payable_online for line in self.open)


@dataclass(frozen=True)
class MandateLine:
    reference: str
    account: str  # masked
    state: str  # the mandate's status value
    signed_on: date
    scheme: str


@dataclass(frozen=True)
class Portal:
    customer_name: str
    groups: list[Group]
    mandates: list[MandateLine]
    mandate_link: str | None
    token: str

    @property
    def empty(self) -> bool:
        return not any(g.open or g.credits or g.paid for g in self.groups)


def view(customer: Customer, *, online_available: bool, today: date | None = None) -> Portal:
    """The portal's facts for ``customer``; ``online_available``: a provider is set up."""
    today = today or clock.local_today()
    documents = _documents(customer.id, today)
    held = policy.holds_on([d.id for d in documents], today)
    names = department_names()
    groups: dict[str, Group] = {}
    for document in sorted(documents, key=order_key):
        key = document.department_id or ""
        if key not in groups:
            groups[key] = Group(_branding(key, names))
        _place(groups[key], document, held.get(document.id), online_available, today)
    return Portal(
        customer_name=customer.name,
        groups=sorted(groups.values(), key=lambda g: g.branding.name.lower()),
        mandates=_mandates(customer.id),
        mandate_link=links.mandate_link(customer),
        token=customer.portal_token,
    )


def _documents(customer_id: int, today: date) -> list[Invoice]:
    """The customer's open invoices, unapplied credit notes, and what they paid lately."""
    since = datetime.combine(today - RECENTLY_PAID, time(), clock.zone()).astimezone(UTC)
    owed = sa.and_(
        Invoice.kind == DocumentKind.INVOICE,
        Invoice.state.in_(PAYABLE),
        Invoice.amount_due > 0,
    )
    credit = sa.and_(
        Invoice.kind == DocumentKind.CREDIT_NOTE,
        # Offset against no invoice (``receivables``' unapplied credit).
        Invoice.credited_invoice_id.is_(None),
        Invoice.credited_teamleader_id.is_(None),
        Invoice.teamleader_paid_at.is_(None),
        Invoice.state != InvoiceState.ARCHIVED,
    )
    paid = sa.and_(Invoice.state == InvoiceState.PAID, Invoice.state_changed_at >= since)
    query = sa.select(Invoice).where(Invoice.customer_id == customer_id, sa.or_(owed, credit, paid))
    return list(db.session.scalars(query))


def _place(group: Group, document: Invoice, hold, online: bool, today: date) -> None:
    if document.kind == DocumentKind.CREDIT_NOTE:
        group.credits.append(_line(document, "credit", hold=None, online=False))
    elif document.state == InvoiceState.PAID:
        paid_on = clock.local_date(document.state_changed_at)
        group.paid.append(_line(document, "paid", hold=None, online=False, paid_on=paid_on))
    else:
        overdue = document.due_date is not None and document.due_date < today
        state = "pending" if document.state == InvoiceState.PENDING else "open"
        state = "overdue" if state == "open" and overdue else state
        payable = (
            online
            and state != "pending"
            and document.profile is not None
            and document.profile.allow_payment_link
        )
        reason = hold.reason.value if hold is not None and hold.reason in _SAID else None
        group.open.append(_line(document, state, hold=reason, online=payable))


_SAID = (HoldReason.PROMISE, HoldReason.DISPUTED, HoldReason.PAYMENT_PLAN)


def _line(document: Invoice, state: str, *, hold, online: bool, paid_on=None) -> Line:
    is_credit = document.kind == DocumentKind.CREDIT_NOTE
    return Line(
        id=document.id,
        number=document.number,
        invoice_date=document.invoice_date,
        due_date=document.due_date,
        currency=document.currency,
        total=document.total_incl_vat,
        open=document.total_incl_vat if is_credit else document.amount_due,
        overdue=state == "overdue",
        state=state,
        has_pdf=document.pdf_available,
        payable_online=online,
        reference=structured_reference(document) if state in ("open", "overdue") else None,
        on_hold=hold,
        paid_on=paid_on,
    )


def _branding(department_id: str, names: dict[str, str]) -> Branding:
    payee: Creditor | None = entities.creditor_of(department_id or None)
    name = entities.payee_name(payee, names, department_id or None)
    if payee is None:
        return Branding(department_id, name, [], "", "", False, None, None, None)
    return Branding(
        key=department_id,
        name=name,
        address_lines=payee.address_lines,
        email=payee.contact_email,
        phone=payee.contact_phone,
        has_logo=bool(payee.logo_key),
        iban=creditor.grouped(payee.iban) if payee.iban else None,
        bic=payee.bic or None,
        creditor_identifier=payee.creditor_identifier or None,
    )


def _mandates(customer_id: int) -> list[MandateLine]:
    shown = (MandateStatus.ACTIVE,)
    return [
        MandateLine(
            reference=m.reference,
            account=debits.masked_iban(m.iban),
            state=m.status.value,
            signed_on=m.signed_on,
            scheme=m.scheme.value,
        )
        for m in customer_mandates(customer_id)
        if m.status in shown
    ]


def document_of(customer: Customer, invoice_id: int) -> Invoice | None:
    """One of the customer's documents by id, or None (another customer's is None too)."""
    if not 0 < invoice_id < ROW_ID_LIMIT:
        return None  # no database integer holds it
    invoice = db.session.get(Invoice, invoice_id)
    return invoice if invoice is not None and invoice.customer_id == customer.id else None


def logo_of(customer: Customer, department_id: str, store) -> tuple[bytes, str] | None:
    """The logo of one of the customer's entities, or None (an entity none of their
    documents names is None too)."""
    known = sa.select(Invoice.id).where(
        Invoice.customer_id == customer.id,
        (Invoice.department_id == department_id)
        if department_id
        else Invoice.department_id.is_(None),
    )
    if db.session.scalar(known.limit(1)) is None:
        return None
    return entities.logo(entities.creditor_of(department_id or None), store)
