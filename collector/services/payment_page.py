"""What a customer's payment page shows: the one document its token names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from collector.extensions import db
from collector.models import DocumentKind, Invoice, InvoiceState
from collector.services.teamleader_connection import creditor_name, department_names

TOKEN_LENGTH = 43  # secrets.token_urlsafe(32)
TOKEN_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True)
class PaymentView:
    """Only what the customer may see."""

    creditor: str
    number: str
    is_credit_note: bool
    invoice_date: date
    due_date: date | None
    currency: str
    amount_due: Decimal
    paid: bool
    closed: bool
    payment_reference: str | None
    has_pdf: bool
    token: str


def find(token: str) -> Invoice | None:
    """The document behind ``token``, or None; malformed tokens never reach the database."""
    if len(token) != TOKEN_LENGTH or not set(token) <= TOKEN_ALPHABET:
        return None
    return db.session.scalars(db.select(Invoice).where(Invoice.payment_token == token)).first()


def view(invoice: Invoice) -> PaymentView:
    """The page's facts for ``invoice``."""
    return PaymentView(
        creditor=creditor_name(department_names(), invoice.department_id),
        number=invoice.number,
        is_credit_note=invoice.kind == DocumentKind.CREDIT_NOTE,
        invoice_date=invoice.invoice_date,
        due_date=invoice.due_date,
        currency=invoice.currency,
        amount_due=invoice.amount_due,
        paid=invoice.state == InvoiceState.PAID,
        closed=invoice.state == InvoiceState.ARCHIVED,
        payment_reference=invoice.payment_reference,
        has_pdf=invoice.pdf_key is not None,
        token=invoice.payment_token,
    )
