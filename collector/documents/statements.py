"""A customer's statement: how the balance came to be, line by line, and as CSV.

The statement replays the account in date order: an invoice adds what it asks, a credit
note and a payment take off, a refund or a return adds back; mails and direct debits are
listed for information (a debit's money arrives as its own payment line). Where
Teamleader counts more paid or credited than the rows here show (an invoice imported
paid, a payment made there before the import) one line settles the difference, and an
invoice archived unpaid is written off, so the closing balance is what the documents
still ask (``balances.balance``'s open amount) less unapplied credit and overpayments.
One currency per statement: it never adds euros to dollars.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate, validates_schema
from sqlalchemy.orm import selectinload

from collector.core import clock
from collector.core.money import ZERO
from collector.documents.models import (
    DocumentKind,
    DocumentMail,
    DocumentMailKind,
    DocumentMailStatus,
    Invoice,
    InvoiceState,
    Payment,
    PaymentKind,
    PaymentSource,
)
from collector.extensions import db
from collector.runtime.csv_cells import text as _text
from collector.runtime.listing import QueryArgsSchema, load_args

# Line kinds, in the order lines of one day are listed: what is owed before what pays it.
INVOICE, CREDIT_NOTE, MAIL, COLLECTION = "invoice", "credit_note", "mail", "collection"
PAYMENT, REVERSAL = "payment", "reversal"
SETTLED_ELSEWHERE, WRITTEN_OFF = "settled_in_teamleader", "written_off"
ORDER = (INVOICE, CREDIT_NOTE, MAIL, COLLECTION, PAYMENT, REVERSAL, SETTLED_ELSEWHERE, WRITTEN_OFF)
# The words a statement shows, in the reader's language (the page's and the CSV's):
# lazy, so each is translated when it is read, in the request that reads it.
LABELS = {
    INVOICE: _l("Invoice"),
    CREDIT_NOTE: _l("Credit note"),
    MAIL: _l("Mail"),
    COLLECTION: _l("Direct debit"),
    PAYMENT: _l("Payment"),
    REVERSAL: _l("Payment taken back"),
    SETTLED_ELSEWHERE: _l("Paid or credited in Teamleader"),
    WRITTEN_OFF: _l("Archived unpaid"),
}
MAIL_DETAILS = {
    (DocumentMailKind.INVITATION, DocumentMailStatus.SENT): _l("invitation sent"),
    (DocumentMailKind.REMINDER, DocumentMailStatus.SENT): _l("reminder sent"),
    # A worker stopped mid-send: it may have gone out (never resent blindly).
    (DocumentMailKind.INVITATION, DocumentMailStatus.UNCERTAIN): _l("invitation maybe sent"),
    (DocumentMailKind.REMINDER, DocumentMailStatus.UNCERTAIN): _l("reminder maybe sent"),
}
# How a payment came in, and how one went back (``ledger``'s labels are written into the
# timeline in English; these are read).
PAYMENT_DETAILS = {
    PaymentSource.PROVIDER: _l("online"),
    PaymentSource.TEAMLEADER: _l("in Teamleader"),
    PaymentSource.MANUAL: _l("marked as paid"),
    PaymentSource.BANK: _l("bank"),
    PaymentSource.EXACT: _l("in Exact Online"),
}
REVERSAL_DETAILS = {
    PaymentKind.REFUND: _l("Refunded"),
    PaymentKind.CHARGEBACK: _l("Charged back"),
    PaymentKind.RETURN: _l("Returned by the bank"),
}
OPENING = _l("Opening balance")
CSV_HEADER = ("date", "type", "document", "description", "detail", "amount", "balance")


# -- the statement -------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementLine:
    """One line of a statement; ``amount`` is what it adds to what the customer owes
    (credit notes and payments negative), None for a line that only informs (a mail, a
    direct debit whose money arrives as its own payment line)."""

    on: date
    kind: str
    number: str  # the document's number
    invoice_id: int
    currency: str
    detail: str | None = None
    amount: Decimal | None = None
    balance: Decimal = ZERO  # after this line

    @property
    def label(self) -> str:
        return LABELS[self.kind]


@dataclass(frozen=True)
class Statement:
    currency: str
    opening: Decimal  # the balance before ``date_from``
    lines: list[StatementLine]
    date_from: date | None = None
    date_to: date | None = None

    @property
    def closing(self) -> Decimal:
        return self.lines[-1].balance if self.lines else self.opening


class StatementArgsSchema(QueryArgsSchema):
    currency = fields.String(validate=validate.Regexp(r"^[A-Z]{3}$", error=_l("Three capitals.")))
    date_from = fields.Date()
    date_to = fields.Date()

    @validates_schema
    def _in_order(self, data, **_kwargs):
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise ValidationError(_("The end date comes before the start date."), "date_to")


def parse_statement_query(args: Mapping[str, str]) -> dict:
    """Query-string ``args`` as ``currency``, ``date_from`` and ``date_to`` (None when not
    given); raises ``Invalid`` per argument."""
    given = load_args(StatementArgsSchema(), args)
    return {"currency": None, "date_from": None, "date_to": None, **given}


def statement(
    customer_id: int,
    currency: str,
    date_from: date | None = None,
    date_to: date | None = None,
    more: Iterable[StatementLine] = (),
) -> Statement:
    """The customer's statement in ``currency``, in date order with a running balance;
    lines before ``date_from`` make the opening balance. ``more``: lines the domains above
    this one know of (direct debits), their ``balance`` ignored."""
    lines = [line for line in [*_lines(customer_id), *more] if line.currency == currency]
    lines.sort(key=lambda line: (line.on, ORDER.index(line.kind), line.invoice_id))
    running, opening, shown = ZERO, ZERO, []
    for line in lines:
        running += line.amount or ZERO
        if date_from is not None and line.on < date_from:
            opening = running
        elif date_to is None or line.on <= date_to:
            shown.append(replace(line, balance=running))
    return Statement(currency, opening, shown, date_from, date_to)


def _lines(customer_id: int) -> list[StatementLine]:
    documents = list(
        db.session.scalars(
            sa.select(Invoice)
            .where(Invoice.customer_id == customer_id)
            .options(selectinload(Invoice.payments), selectinload(Invoice.mails))
        )
    )
    credits: dict[int, Decimal] = {}
    for note in (d for d in documents if d.kind == DocumentKind.CREDIT_NOTE):
        if note.credited_invoice_id is not None:
            credits[note.credited_invoice_id] = (
                credits.get(note.credited_invoice_id, ZERO) + note.total_incl_vat
            )
    lines = []
    for document in documents:
        lines += _document_lines(document, credits.get(document.id, ZERO))
    return lines


def _document_lines(document: Invoice, credited: Decimal) -> list[StatementLine]:
    line = _line_maker(document)
    if document.kind == DocumentKind.CREDIT_NOTE:
        lines = [line(document.invoice_date, CREDIT_NOTE, -document.total_incl_vat)]
    else:
        lines = [line(document.invoice_date, INVOICE, _payable(document))]
    paid = ZERO
    for payment in (p for p in document.payments if p.counts):
        paid += payment.amount
        kind, detail = _payment_kind(payment)
        lines.append(line(clock.local_date(payment.occurred_at), kind, -payment.amount, detail))
    lines += [_mail_line(document, mail) for mail in document.mails if _mail_counts(mail)]
    if document.kind == DocumentKind.INVOICE:
        lines += _closing_lines(document, _payable(document) - credited - paid, line)
    return lines


def _closing_lines(document: Invoice, ledger_due: Decimal, line) -> list[StatementLine]:
    """What Teamleader settled beyond our rows, and what was archived unpaid: whatever
    brings the ledger's reading down to what the document still asks."""
    # amount_due is the lower of our ledger and Teamleader's total.due (amounts.still_due).
    elsewhere = max(ledger_due, ZERO) - document.amount_due
    lines = []
    if elsewhere > ZERO:
        when = document.teamleader_paid_at
        on = clock.local_date(when) if when else document.invoice_date
        lines.append(line(on, SETTLED_ELSEWHERE, -elsewhere))
    if document.state == InvoiceState.ARCHIVED and document.amount_due > ZERO:
        on = clock.local_date(document.state_changed_at)
        lines.append(line(on, WRITTEN_OFF, -document.amount_due))
    return lines


def _line_maker(document: Invoice):
    def line(on: date, kind: str, amount: Decimal | None, detail: str | None = None):
        return StatementLine(
            on=on,
            kind=kind,
            number=document.number,
            invoice_id=document.id,
            currency=document.currency,
            detail=detail,
            amount=amount,
        )

    return line


def _payable(document: Invoice) -> Decimal:
    return document.payable if document.payable is not None else document.total_incl_vat


def _payment_kind(payment: Payment) -> tuple[str, str]:
    if payment.kind == PaymentKind.PAYMENT:
        return PAYMENT, PAYMENT_DETAILS[payment.source]
    return REVERSAL, REVERSAL_DETAILS[payment.kind]


def _mail_counts(mail: DocumentMail) -> bool:
    sent = mail.sent_at or mail.claimed_at
    return (mail.kind, mail.status) in MAIL_DETAILS and sent is not None


def _mail_line(document: Invoice, mail: DocumentMail) -> StatementLine:
    on = clock.local_date(mail.sent_at or mail.claimed_at)
    return _line_maker(document)(on, MAIL, None, MAIL_DETAILS[mail.kind, mail.status])


def statement_csv(statement: Statement) -> str:
    """The statement as CSV: a header row, ISO dates, amounts as plain numbers (a
    credit note or payment negative), the running balance; an opening row when the
    statement starts at a date."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    if statement.date_from is not None:
        start = statement.date_from.isoformat()
        writer.writerow([start, "opening", "", OPENING, "", "", _plain(statement.opening)])
    for line in statement.lines:
        writer.writerow(
            [
                line.on.isoformat(),
                line.kind,
                _text(line.number),
                line.label,
                _text(line.detail),
                _plain(line.amount),
                _plain(line.balance),
            ]
        )
    return buffer.getvalue()


def _plain(amount: Decimal | None) -> str:
    return "" if amount is None else f"{amount:.2f}"
