"""What an invitation or a reminder says: the letter for one document, its PDF, and the
SEPA pre-notification when the document is to be debited.

``invitations.deliver`` sends what is composed here; the ``Postman`` carries what
composing and sending need from outside.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from collector.core.storage import DocumentStore
from collector.direct_debit import debits
from collector.documents.models import Customer, DocumentMail, DocumentMailKind, Invoice
from collector.mail import letters
from collector.mail.smtp import Mailer
from collector.teamleader import pdfs
from collector.teamleader.connection import creditor_name


@dataclass(frozen=True)
class Postman:
    """Everything delivery needs from outside: the mailer, our address, the PDFs, links."""

    mailer: Mailer
    sender: str
    store: DocumentStore
    payment_base_url: str  # ends with "/pay/"
    creditors: dict[str, str]  # Teamleader department id → the company's name


def compose(row: DocumentMail, invoice: Invoice, postman: Postman, today: date):
    """The letter owed by ``row`` and its attachments (the PDF, when we have it)."""
    pdf = pdfs.read_pdf(postman.store, invoice)
    customer: Customer = invoice.customer
    facts = letters.DocumentFacts(
        number=invoice.number,
        creditor=creditor_name(postman.creditors, invoice.department_id),
        customer_name=customer.name,
        amount_due=invoice.amount_due,
        currency=invoice.currency,
        invoice_date=invoice.invoice_date,
        due_date=invoice.due_date,
        payment_url=postman.payment_base_url + invoice.payment_token,
        payment_reference=invoice.payment_reference,
        has_pdf=pdf is not None,
        direct_debit=announce(row, invoice, today),
    )
    if row.kind == DocumentMailKind.INVITATION:
        letter = letters.invitation(facts, customer.language)
    else:
        letter = letters.reminder(facts, customer.language, overdue_days(invoice, today))
    attachments = [(pdfs.pdf_filename(invoice), pdf, "application/pdf")] if pdf else []
    return letter, attachments


def announce(row: DocumentMail, invoice: Invoice, today: date) -> letters.DirectDebitFacts | None:
    """The SEPA pre-notification the mail carries, if the document is to be debited;
    the row records it, and a collection run never collects before the day it names."""
    debit = planned_announcement(invoice, today)
    creditor = debits.current_creditor()
    if debit is None:
        row.direct_debit_on = row.direct_debit_mandate_id = row.direct_debit_amount = None
        return None
    row.direct_debit_on, row.direct_debit_mandate_id = debit.on, debit.mandate.id
    row.direct_debit_amount = debit.amount
    return letters.DirectDebitFacts(
        amount=debit.amount,
        on=debit.on,
        mandate_reference=debit.mandate.reference,
        account=debits.masked_iban(debit.mandate.iban),
        creditor_identifier=creditor.creditor_identifier,
    )


def planned_announcement(invoice: Invoice, today: date) -> debits.Announcement | None:
    """The direct debit a mail composed ``today`` for ``invoice`` pre-notifies, or None
    (also when the creditor cannot collect: no creditor identifier). Writes nothing."""
    creditor = debits.current_creditor()
    if creditor is None or not creditor.creditor_identifier:
        return None
    return debits.planned_debit(invoice, today)


def overdue_days(invoice: Invoice, today: date) -> int:
    """Whole days past the due date, 0 when not overdue or without a due date."""
    return max(0, (today - invoice.due_date).days) if invoice.due_date else 0
