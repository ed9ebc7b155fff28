"""What an invitation or a reminder says: the letter for one document, its PDF, and the
SEPA pre-notification when the document is to be debited.

``invitations.deliver`` sends what is composed here; the ``Postman`` carries what
composing and sending need from outside.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from collector.accounts import entities
from collector.core.storage import DocumentStore
from collector.direct_debit import debits, signing
from collector.documents.models import Customer, DocumentMail, DocumentMailKind, Invoice
from collector.dunning import schedule
from collector.dunning.models import INVITATION_SLOT, MailText, step_slot
from collector.dunning.models.texts import MANDATE_UNUSABLE_SLOT
from collector.mail import debit_notices, letters, texts
from collector.mail.smtp import Mailer
from collector.teamleader import pdfs


@dataclass(frozen=True)
class Postman:
    """Everything delivery needs from outside: the mailer, our address, the PDFs, links."""

    mailer: Mailer
    sender: str  # MAIL_FROM: the From of an entity whose creditor names no sender
    store: DocumentStore
    payment_base_url: str  # ends with "/pay/"
    creditors: dict[str, str]  # Teamleader department id → the company's name
    portal_base_url: str | None = None  # ends with "/portal/"; None: no portal link


def compose(row: DocumentMail, invoice: Invoice, postman: Postman, today: date):
    """The letter owed by ``row`` and its attachments (the PDF, when we have it)."""
    pdf = pdfs.read_pdf(postman.store, invoice)
    facts = document_facts(invoice, postman.payment_base_url, postman.creditors, pdf is not None)
    portal = (
        postman.portal_base_url + invoice.customer.portal_token if postman.portal_base_url else None
    )
    facts = replace(facts, direct_debit=announce(row, invoice, today), portal_url=portal)
    if row.kind == DocumentMailKind.INVITATION and facts.direct_debit is None:
        facts = replace(facts, mandate_url=mandate_url(invoice, postman.payment_base_url))
    letter = _letter(row, invoice, facts, today)
    attachments = [(pdfs.pdf_filename(invoice), pdf, "application/pdf")] if pdf else []
    return letter, attachments


def document_facts(
    invoice: Invoice, payment_base_url: str, creditors: dict[str, str], has_pdf: bool
) -> letters.DocumentFacts:
    """What a mail says about ``invoice`` (no direct debit: ``announce`` adds it)."""
    customer: Customer = invoice.customer
    return letters.DocumentFacts(
        number=invoice.number,
        creditor=entities.payee_name(
            debits.creditor_for(invoice), creditors, invoice.department_id
        ),
        customer_name=customer.name,
        amount_due=invoice.amount_due,
        currency=invoice.currency,
        invoice_date=invoice.invoice_date,
        due_date=invoice.due_date,
        payment_url=payment_base_url + invoice.payment_token,
        payment_reference=invoice.payment_reference,
        has_pdf=has_pdf,
    )


def _letter(row: DocumentMail, invoice: Invoice, facts: letters.DocumentFacts, today: date):
    """The team's text for the document's profile, step and language, else today's letter."""
    language = letters.language_of(invoice.customer.language)
    if row.kind == DocumentMailKind.MANDATE_UNUSABLE:
        return _mandate_unusable(invoice, facts, language)
    days = None if row.kind == DocumentMailKind.INVITATION else overdue_days(invoice, today)
    edited = edited_text(row, invoice, language)
    if edited is not None:
        return texts.render(
            edited.subject, edited.body, texts.values_of(facts, language, days), language
        )
    if days is None:
        return letters.invitation(facts, language)
    return letters.reminder(facts, language, days)


def _mandate_unusable(invoice: Invoice, facts: letters.DocumentFacts, language: str):
    """The mail about an unusable mandate: the team's text, else the default one."""
    edited = None
    if invoice.profile_id is not None:
        edited = texts.stored_text(invoice.profile_id, MANDATE_UNUSABLE_SLOT, language)
    subject, body = (
        (edited.subject, edited.body)
        if edited is not None
        else texts.default_text(MANDATE_UNUSABLE_SLOT, language)
    )
    values = texts.values_of(facts, language, None)
    values["new_mandate_link"] = debit_notices.new_mandate_link(invoice.customer) or ""
    return texts.render(subject, body, values, language)


def edited_text(row: DocumentMail, invoice: Invoice, language: str) -> MailText | None:
    """The text the team wrote for this mail, if any: the invitation's, or the step's."""
    if invoice.profile_id is None:
        return None
    if row.kind == DocumentMailKind.INVITATION:
        return texts.stored_text(invoice.profile_id, INVITATION_SLOT, language)
    step = schedule.step_for(invoice.profile_id, row.days_overdue)
    return texts.stored_text(invoice.profile_id, step_slot(step.id), language) if step else None


def announce(row: DocumentMail, invoice: Invoice, today: date) -> letters.DirectDebitFacts | None:
    """The SEPA pre-notification the mail carries, if the document is to be debited;
    the row records it, and a collection run never collects before the day it names."""
    # The mail about an unusable mandate announces nothing: it asks for another way.
    unusable = row.kind == DocumentMailKind.MANDATE_UNUSABLE
    debit = None if unusable else planned_announcement(invoice, today)
    creditor = debits.creditor_for(invoice)
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


def mandate_url(invoice: Invoice, payment_base_url: str) -> str | None:
    """The customer's signing page, when the invitation offers to sign a mandate."""
    path = signing.offer_for(invoice, commit=False)
    if path is None:
        return None
    return payment_base_url.removesuffix("/").removesuffix("/pay") + path


def sender_for(invoice: Invoice, postman: Postman) -> str:
    """The From of ``invoice``'s customer mail: its company entity's sender, else ours."""
    return entities.sender_of(debits.creditor_for(invoice), postman.sender)


def planned_announcement(invoice: Invoice, today: date) -> debits.Announcement | None:
    """The direct debit a mail composed ``today`` for ``invoice`` pre-notifies, or None
    (also when the document's creditor cannot collect: no creditor identifier). Writes
    nothing."""
    creditor = debits.creditor_for(invoice)
    if creditor is None or not creditor.creditor_identifier:
        return None
    return debits.planned_debit(invoice, today)


def overdue_days(invoice: Invoice, today: date) -> int:
    """Whole days past the due date, 0 when not overdue or without a due date."""
    return max(0, (today - invoice.due_date).days) if invoice.due_date else 0
