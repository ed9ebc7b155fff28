"""The customer emails: the invitation to pay and the reminder, in Dutch, French and English.

No Flask, no database: a ``DocumentFacts`` goes in, a ``Letter`` (subject, text, html) comes
out, ready for ``collector.mail.smtp.build_message``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from collector.core import formatting

LANGUAGES = ("nl", "fr", "en")
FALLBACK = "en"

# Amounts and dates are written by collector.core.formatting, as on the pages. It reads a
# bare language the way our readers write: nl and fr with Belgian conventions
# (€ 1.234,56 and 1 234,56 €), English as euro-area en_IE ("€1,234.56", "1 March 2026").

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "mail" / "letters"

# Placeholders are filled by str.format with the values of ``_values``; in HTML each value
# is escaped first (Markup.format), so a customer called "<script>" stays text.
TEXTS: dict[str, dict[str, str]] = {
    "nl": {
        "subject_invitation": "Factuur {number} van {creditor}",
        "subject_reminder": "Herinnering: factuur {number} is {days_overdue} over de vervaldatum",
        "day_one": "{count} dag",
        "day_other": "{count} dagen",
        "greeting": "Beste {customer_name},",
        "invitation_intro": (
            "Bedankt voor uw vertrouwen. Hierbij ontvangt u factuur {number} van {invoice_date}."
        ),
        "amount_due_by": "Het te betalen bedrag is {amount}; de vervaldatum is {due_date}.",
        "amount_due": "Het te betalen bedrag is {amount}.",
        "pay_online": "U kunt in enkele klikken online betalen:",
        "pay_button": "Betaal {amount}",
        "link_fallback": "Werkt de knop niet? Kopieer dan deze link naar uw browser:",
        "bank_transfer": (
            "Betaalt u liever via overschrijving? Vermeld dan de gestructureerde mededeling "
            "{payment_reference}."
        ),
        "pdf_attached": "U vindt de factuur als pdf in bijlage.",
        "reminder_intro": (
            "Volgens onze gegevens is factuur {number} van {invoice_date} nog niet betaald."
        ),
        "reminder_due_on": "Het bedrag van {amount} moest uiterlijk op {due_date} betaald zijn.",
        "reminder_outstanding": "Het openstaande bedrag is {amount}.",
        "reminder_request": "Wij vragen u vriendelijk dit bedrag zo snel mogelijk te betalen.",
        "already_paid": "Hebt u intussen al betaald, dan mag u dit bericht negeren.",
        "direct_debit": (
            "Wij innen {debit_amount} via SEPA-domiciliëring op {debit_date} van uw rekening "
            "{debit_account}, volgens mandaat {mandate_reference} (ons identificatienummer als "
            "schuldeiser: {creditor_identifier}). U hoeft niets te doen."
        ),
        "view_online": "U kunt de factuur ook online bekijken:",
        "view_button": "Bekijk de factuur",
        "portal": "Al uw openstaande facturen vindt u op één pagina:",
        "sign_mandate": (
            "Betaalt u voortaan liever via domiciliëring? Onderteken dan online een mandaat:"
        ),
        "subject_mandate_unusable": "Factuur {number}: uw domiciliëring werd niet uitgevoerd",
        "mandate_unusable_intro": (
            "Uw bank heeft de SEPA-domiciliëring van factuur {number} niet uitgevoerd, en wij "
            "kunnen uw mandaat daarom niet meer gebruiken."
        ),
        "new_mandate": (
            "Wilt u verder via domiciliëring betalen? Onderteken dan online een nieuw mandaat:"
        ),
        "sign_off": "Met vriendelijke groeten,",
    },
    "fr": {
        "subject_invitation": "Facture {number} {de_creditor}",
        "subject_reminder": "Rappel\u00a0: facture {number} échue depuis {days_overdue}",
        "day_one": "{count} jour",
        "day_other": "{count} jours",
        "greeting": "Bonjour {customer_name},",
        "invitation_intro": (
            "Nous vous remercions de votre confiance. Voici la facture {number} du {invoice_date}."
        ),
        "amount_due_by": (
            "Le montant à payer est de {amount}, à régler au plus tard le {due_date}."
        ),
        "amount_due": "Le montant à payer est de {amount}.",
        "pay_online": "Vous pouvez payer en ligne en quelques clics\u00a0:",
        "pay_button": "Payer {amount}",
        "link_fallback": (
            "Si le bouton ne fonctionne pas, copiez ce lien dans votre navigateur\u00a0:"
        ),
        "bank_transfer": (
            "Si vous préférez payer par virement, veuillez mentionner la communication "
            "structurée {payment_reference}."
        ),
        "pdf_attached": "Vous trouverez la facture en pièce jointe au format PDF.",
        "reminder_intro": (
            "Sauf erreur de notre part, la facture {number} du {invoice_date} "
            "n’a pas encore été réglée."
        ),
        "reminder_due_on": "Le montant de {amount} arrivait à échéance le {due_date}.",
        "reminder_outstanding": "Le montant restant dû est de {amount}.",
        "reminder_request": (
            "Nous vous saurions gré de bien vouloir procéder au paiement dans les meilleurs délais."
        ),
        "already_paid": (
            "Si vous avez effectué le paiement entre-temps, "
            "nous vous prions de ne pas tenir compte de ce message."
        ),
        "direct_debit": (
            "Nous prélèverons {debit_amount} par domiciliation SEPA le {debit_date} sur votre "
            "compte {debit_account}, en vertu du mandat {mandate_reference} (notre identifiant "
            "de créancier\u00a0: {creditor_identifier}). Vous n’avez rien à faire."
        ),
        "view_online": "Vous pouvez aussi consulter la facture en ligne\u00a0:",
        "view_button": "Voir la facture",
        "portal": "Toutes vos factures ouvertes sont sur une seule page\u00a0:",
        "sign_mandate": (
            "Vous préférez désormais payer par domiciliation ? Signez un mandat en ligne :"
        ),
        "subject_mandate_unusable": "Facture {number}\u00a0: votre domiciliation n’a pas abouti",
        "mandate_unusable_intro": (
            "Votre banque n’a pas exécuté la domiciliation SEPA de la facture {number}\u00a0; "
            "nous ne pouvons donc plus utiliser votre mandat."
        ),
        "new_mandate": (
            "Vous souhaitez continuer à payer par domiciliation\u00a0? Signez un nouveau mandat "
            "en ligne\u00a0:"
        ),
        "sign_off": "Cordialement,",
    },
    "en": {
        "subject_invitation": "Invoice {number} from {creditor}",
        "subject_reminder": "Reminder: invoice {number} is {days_overdue} overdue",
        "day_one": "{count} day",
        "day_other": "{count} days",
        "greeting": "Dear {customer_name},",
        "invitation_intro": (
            "Thank you for your business. Here is invoice {number} of {invoice_date}."
        ),
        "amount_due_by": "The amount due is {amount}, to be paid by {due_date}.",
        "amount_due": "The amount due is {amount}.",
        "pay_online": "You can pay online in a few clicks:",
        "pay_button": "Pay {amount}",
        "link_fallback": "If the button does not work, copy this link into your browser:",
        "bank_transfer": (
            "If you prefer to pay by bank transfer, please quote the structured reference "
            "{payment_reference}."
        ),
        "pdf_attached": "The invoice is attached to this email as a PDF.",
        "reminder_intro": (
            "According to our records, invoice {number} of {invoice_date} has not been paid yet."
        ),
        "reminder_due_on": "The amount of {amount} was due on {due_date}.",
        "reminder_outstanding": "The amount outstanding is {amount}.",
        "reminder_request": "We would be grateful if you could settle it as soon as possible.",
        "already_paid": "If you have paid in the meantime, please ignore this message.",
        "direct_debit": (
            "We will collect {debit_amount} by SEPA direct debit on {debit_date} from your "
            "account {debit_account}, under mandate {mandate_reference} (our creditor "
            "identifier: {creditor_identifier}). There is nothing you need to do."
        ),
        "view_online": "You can also view the invoice online:",
        "view_button": "View the invoice",
        "portal": "See all your open invoices on one page:",
        "sign_mandate": "Pay by direct debit from now on: sign a mandate online:",
        "subject_mandate_unusable": "Invoice {number}: your direct debit did not go through",
        "mandate_unusable_intro": (
            "Your bank did not pay the SEPA direct debit for invoice {number}, so we can no "
            "longer use your mandate."
        ),
        "new_mandate": "Would you like to keep paying by direct debit? Sign a new mandate online:",
        "sign_off": "Kind regards,",
    },
}


@dataclass(frozen=True)
class Letter:
    """One rendered email: a one-line subject, the plain text and its HTML alternative."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class DirectDebitFacts:
    """The SEPA pre-notification: what will be collected, when, on which mandate, from
    which account (masked) and by whom (the creditor identifier)."""

    amount: Decimal
    on: date
    mandate_reference: str
    account: str
    creditor_identifier: str


@dataclass(frozen=True)
class DocumentFacts:
    """What a customer email says about one invoice; ``creditor`` is the invoicing company."""

    number: str
    creditor: str
    customer_name: str
    amount_due: Decimal
    currency: str
    invoice_date: date
    due_date: date | None
    payment_url: str
    payment_reference: str | None
    has_pdf: bool
    # Set when the document will be collected by direct debit: the mail announces it.
    direct_debit: DirectDebitFacts | None = None
    # The customer's portal (all their open invoices), when the mail links to it.
    portal_url: str | None = None
    # The customer's page to sign a mandate on, when they could pay by direct debit.
    mandate_url: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.amount_due, Decimal):
            raise TypeError(f"amount_due must be a Decimal, not {type(self.amount_due).__name__}")
        # The link becomes a button's href: never a javascript: or data: URL.
        if urlsplit(self.payment_url).scheme not in ("http", "https"):
            raise ValueError(f"payment_url must be an http(s) address: {self.payment_url!r}")
        if self.portal_url and urlsplit(self.portal_url).scheme not in ("http", "https"):
            raise ValueError(f"portal_url must be an http(s) address: {self.portal_url!r}")
        if self.mandate_url and urlsplit(self.mandate_url).scheme not in ("http", "https"):
            raise ValueError(f"mandate_url must be an http(s) address: {self.mandate_url!r}")


def language_of(value: str | None) -> str:
    """The email language for a Teamleader language code ("nl-BE", "FR", None…); else English."""
    primary = (value or "").strip().replace("_", "-").partition("-")[0].lower()
    return primary if primary in LANGUAGES else FALLBACK


def invitation(facts: DocumentFacts, language: str | None) -> Letter:
    """The invitation to pay one invoice, in the customer's language."""
    return _letter("invitation", facts, language_of(language), days_overdue=None)


def reminder(facts: DocumentFacts, language: str | None, days_overdue: int) -> Letter:
    """A polite reminder for an invoice ``days_overdue`` (at least 1) days past its due date."""
    if days_overdue < 1:
        raise ValueError(f"a reminder is for an overdue invoice, not {days_overdue} days overdue")
    return _letter("reminder", facts, language_of(language), days_overdue=days_overdue)


def edited_html(subject: str, paragraphs: list, language: str) -> str:
    """The HTML of a text the team edited: its paragraphs (already escaped) in our frame."""
    template = _environment().get_template("edited.html")
    return template.render(subject=subject, paragraphs=paragraphs, language=language)


def _letter(name: str, facts: DocumentFacts, language: str, days_overdue: int | None) -> Letter:
    values = _values(facts, language, days_overdue)
    subject = _flatten(TEXTS[language][f"subject_{name}"].format(**values))
    context = {"facts": facts, "language": language, "subject": subject}
    env = _environment()
    text = env.get_template(f"{name}.txt").render(context, say=_sayer(language, values, False))
    html = env.get_template(f"{name}.html").render(context, say=_sayer(language, values, True))
    return Letter(subject=subject, text=text, html=html)


def _values(facts: DocumentFacts, language: str, days_overdue: int | None) -> dict:
    days = None
    if days_overdue is not None:
        key = "day_one" if days_overdue == 1 else "day_other"
        days = TEXTS[language][key].format(count=days_overdue)
    return {
        "number": facts.number,
        "creditor": facts.creditor,
        "de_creditor": _french_de(facts.creditor),
        "customer_name": facts.customer_name,
        "amount": formatting.money(facts.amount_due, facts.currency, locale=language),
        "invoice_date": formatting.long_date(facts.invoice_date, locale=language),
        "due_date": formatting.long_date(due, locale=language) if (due := facts.due_date) else None,
        "payment_reference": facts.payment_reference,
        "days_overdue": days,
        **_debit_values(facts.direct_debit, facts.currency, language),
    }


def _debit_values(debit: DirectDebitFacts | None, currency: str, language: str) -> dict:
    if debit is None:
        return {}
    return {
        "debit_amount": formatting.money(debit.amount, currency, locale=language),
        "debit_date": formatting.long_date(debit.on, locale=language),
        "debit_account": debit.account,
        "mandate_reference": debit.mandate_reference,
        "creditor_identifier": debit.creditor_identifier,
    }


def _french_de(name: str) -> str:
    # French elides "de" before a vowel: "de Belfius" but "d’Acme NV".
    elides = name[:1].lower() in tuple("aeiouàâéèêëîïôöûü")
    return f"d’{name}" if elides else f"de {name}"


def _sayer(language: str, values: dict, html: bool):
    texts = TEXTS[language]

    def say(key: str) -> str:
        if html:
            # Our sentence is escaped as text, then every value is escaped as it goes in.
            return Markup.escape(texts[key]).format(**values)
        return texts[key].format(**values)

    return say


def _flatten(subject: str) -> str:
    # A header holds one line: a number or name with CR/LF would otherwise be refused by
    # collector.mail.smtp (header injection), or split the subject.
    return " ".join(line.strip() for line in subject.splitlines() if line.strip())


@functools.cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
