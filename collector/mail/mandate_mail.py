"""Mails about mandates signed online: the signatory's copy of the mandate they signed
(the PDF attached), and the link to sign one that a team member sends a customer.

Each is written in its reader's language from the tables here, as the other customer
mails are (``letters``): the copy in the language the mandate was signed in, the link in
the customer's. Sent from the creditor's sender where it has one.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from collector.accounts import entities
from collector.core.errors import NotFound
from collector.direct_debit import signing
from collector.direct_debit.models import MandateSignature
from collector.documents.models import Customer
from collector.extensions import db
from collector.mail import setup as mail_setup
from collector.mail.letters import language_of
from collector.mail.models import MailMessage, MailStatus
from collector.mail.sending import send_mail
from collector.runtime import setup as runtime_setup

COPY_KIND = "mandate_copy"
LINK_KIND = "mandate_link"

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "copy_subject": "Your direct debit mandate {reference} for {creditor}",
        "greeting": "Dear {name},",
        "copy_body": (
            "Thank you for signing direct debit mandate {reference} for {creditor}. You will "
            "find a copy of the signed mandate attached (PDF)."
        ),
        "copy_page": "You can look at your mandate or revoke it on this page:",
        "link_subject": "Pay {creditor} by direct debit: sign your mandate online",
        "link_body": (
            "{creditor} invites you to pay your invoices by SEPA direct debit from now on. "
            "You can read and sign the mandate online, in a few minutes:"
        ),
        "link_after": "Each collection is announced to you by email beforehand.",
        "sign_off": "Kind regards,",
    },
    "nl": {
        "copy_subject": "Uw domiciliëringsmandaat {reference} voor {creditor}",
        "greeting": "Beste {name},",
        "copy_body": (
            "Bedankt voor het ondertekenen van domiciliëringsmandaat {reference} voor "
            "{creditor}. U vindt een kopie van het ondertekende mandaat in bijlage (pdf)."
        ),
        "copy_page": "Op deze pagina kunt u uw mandaat bekijken of herroepen:",
        "link_subject": "Betaal {creditor} via domiciliëring: onderteken uw mandaat online",
        "link_body": (
            "{creditor} nodigt u uit om uw facturen voortaan via SEPA-domiciliëring te betalen. "
            "U kunt het mandaat in enkele minuten online lezen en ondertekenen:"
        ),
        "link_after": "Elke invordering wordt u vooraf per e-mail gemeld.",
        "sign_off": "Met vriendelijke groeten,",
    },
    "fr": {
        "copy_subject": "Votre mandat de domiciliation {reference} pour {creditor}",
        "greeting": "Bonjour {name},",
        "copy_body": (
            "Merci d'avoir signé le mandat de domiciliation {reference} pour {creditor}. Vous "
            "trouverez en annexe une copie du mandat signé (PDF)."
        ),
        "copy_page": "Vous pouvez consulter ou révoquer votre mandat sur cette page\u00a0:",
        "link_subject": "Payez {creditor} par domiciliation\u00a0: signez votre mandat en ligne",
        "link_body": (
            "{creditor} vous invite à payer désormais vos factures par domiciliation SEPA. "
            "Vous pouvez lire et signer le mandat en ligne, en quelques minutes\u00a0:"
        ),
        "link_after": "Chaque encaissement vous est annoncé au préalable par e-mail.",
        "sign_off": "Meilleures salutations,",
    },
}


def send_copy(signature_id: int) -> MailMessage:
    """Mail the signatory the mandate they signed, its PDF attached. Commits."""
    signature = db.session.get(MandateSignature, signature_id)
    if signature is None:
        raise NotFound(f"No mandate signature with id {signature_id}.")
    mandate = signature.mandate
    payee = signing.creditor_of(mandate.customer)
    creditor = payee.name if payee is not None else ""
    says = TEXTS[language_of(signature.language)]
    values = {
        "reference": mandate.reference,
        "creditor": creditor,
        "name": signature.signatory_name,
    }
    page = signing.link_for(mandate.customer)
    text = "\n\n".join(
        [
            says["greeting"],
            says["copy_body"],
            f"{says['copy_page']}\n{page}",
            f"{says['sign_off']}\n{{creditor}}",
        ]
    ).format(**values)
    subject = says["copy_subject"].format(**values)
    # A job run again (its worker stopped) sends no second copy of one that went out.
    sent = db.session.scalars(
        sa.select(MailMessage).where(
            MailMessage.kind == COPY_KIND,
            MailMessage.recipient == signature.signatory_email,
            MailMessage.subject == subject,
            MailMessage.status.in_((MailStatus.SENT, MailStatus.STORED)),
        )
    ).first()
    if sent is not None:
        return sent
    content = runtime_setup.document_store(current_app).get(signature.pdf_key)
    return send_mail(
        mail_setup.mailer(current_app),
        entities.sender_of(payee, mail_setup.sender(current_app)),
        kind=COPY_KIND,
        recipient=signature.signatory_email,
        subject=subject,
        text=text,
        attachments=[(signing.pdf_filename(signature), content, "application/pdf")],
    )


def send_link(customer_id: int) -> MailMessage:
    """Mail the customer the link to sign a mandate. Commits. ``NotFound`` without a
    customer or an address."""
    customer = db.session.get(Customer, customer_id)
    if customer is None or not customer.email:
        raise NotFound(f"Customer {customer_id} has no email address.")
    payee = signing.creditor_of(customer)
    creditor = payee.name if payee is not None else ""
    says = TEXTS[language_of(customer.language)]
    values = {"creditor": creditor, "name": customer.name}
    text = "\n\n".join(
        [
            says["greeting"],
            f"{says['link_body']}\n{signing.link_for(customer)}",
            says["link_after"],
            f"{says['sign_off']}\n{{creditor}}",
        ]
    ).format(**values)
    return send_mail(
        mail_setup.mailer(current_app),
        entities.sender_of(payee, mail_setup.sender(current_app)),
        kind=LINK_KIND,
        recipient=customer.email,
        subject=says["link_subject"].format(**values),
        text=text,
    )
