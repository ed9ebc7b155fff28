"""The text of a SEPA mandate signed online, in Dutch, French and English, Core and B2B.

What the text must say comes from the EPC rulebooks (reference/twikey-and-peers.md §2):
the creditor's name, address and creditor identifier; the mandate reference (UMR); that
the debtor authorises the creditor to send instructions to their bank and the bank to
debit their account accordingly; for Core, the right to a refund from their bank within
8 weeks of the debit under the terms of their agreement with the bank, and that their
rights are explained in a statement their bank provides; for B2B, that it is for
business-to-business payments only, that no refund can be claimed once debited, and that
the debtor may ask their bank not to debit until the due date. The wording is ours.

The page shows exactly what ``text`` returns and the signature stores it verbatim; the
PDF (``mandate_pdf``) prints it with the debtor's details under the ``LABELS``. No Flask,
no database: like the customer mails (``mail/letters.py``), the customer's language comes
from these tables, not from the UI's translations, so a change in one never changes
the other.
"""

from __future__ import annotations

from dataclasses import dataclass

LANGUAGES = ("nl", "fr", "en")
CORE, B2B = "CORE", "B2B"

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title_CORE": "SEPA Core Direct Debit Mandate",
        "title_B2B": "SEPA Business-to-Business Direct Debit Mandate",
        "reference": "Mandate reference (UMR): {reference}",
        "creditor": "Creditor: {creditor}, {address}",
        "identifier": "Creditor identifier: {identifier}",
        "payment_type": "Type of payment: recurrent",
        "authorise": (
            "By signing this mandate, you authorise {creditor} to send instructions to your "
            "bank to debit your account, and your bank to debit your account in accordance "
            "with those instructions from {creditor}."
        ),
        "refund_CORE": (
            "You are entitled to a refund from your bank under the terms and conditions of "
            "your agreement with it. A refund must be claimed within 8 weeks from the date "
            "on which your account was debited."
        ),
        "statement_CORE": (
            "Your rights regarding this mandate are explained in a statement that you can "
            "obtain from your bank."
        ),
        "refund_B2B": (
            "This mandate is intended only for payments between businesses. You are not "
            "entitled to a refund from your bank once your account has been debited, but you "
            "may ask your bank not to debit your account up to the day on which the payment "
            "is due."
        ),
        "statement_B2B": (
            "Before the first collection, give your bank the details of this mandate (or "
            "confirm it to them): your bank checks every B2B collection against them. Your "
            "bank can explain your rights and its procedures in detail."
        ),
        "notice": (
            "{creditor} tells you the amount and the date of each collection at least {days} "
            "calendar days before it."
        ),
        "revoke": (
            "You may revoke this mandate at any time by telling {creditor}, or on the page "
            "where you signed it."
        ),
    },
    "nl": {
        "title_CORE": "Mandaat voor Europese domiciliëring (SEPA Core)",
        "title_B2B": "Mandaat voor Europese domiciliëring tussen ondernemingen (SEPA B2B)",
        "reference": "Mandaatreferentie (UMR): {reference}",
        "creditor": "Schuldeiser: {creditor}, {address}",
        "identifier": "Identificatienummer van de schuldeiser: {identifier}",
        "payment_type": "Soort betaling: terugkerend",
        "authorise": (
            "Door dit mandaat te ondertekenen, geeft u {creditor} de toestemming om opdrachten "
            "naar uw bank te sturen om uw rekening te debiteren, en uw bank de toestemming om "
            "uw rekening te debiteren overeenkomstig die opdrachten van {creditor}."
        ),
        "refund_CORE": (
            "U hebt het recht om door uw bank terugbetaald te worden volgens de voorwaarden "
            "van uw overeenkomst met uw bank. Een terugbetaling moet u aanvragen binnen 8 weken "
            "vanaf de datum waarop uw rekening werd gedebiteerd."
        ),
        "statement_CORE": (
            "Uw rechten in verband met dit mandaat worden uitgelegd in een verklaring die u "
            "bij uw bank kunt verkrijgen."
        ),
        "refund_B2B": (
            "Dit mandaat is uitsluitend bedoeld voor betalingen tussen ondernemingen. U hebt "
            "geen recht op terugbetaling door uw bank nadat uw rekening werd gedebiteerd, maar "
            "u mag uw bank vragen uw rekening niet te debiteren tot op de dag waarop de "
            "betaling verschuldigd is."
        ),
        "statement_B2B": (
            "Bezorg vóór de eerste invordering de gegevens van dit mandaat aan uw bank (of "
            "bevestig het bij haar): uw bank toetst elke B2B-invordering eraan. Uw bank kan u "
            "uw rechten en haar procedures in detail uitleggen."
        ),
        "notice": (
            "{creditor} meldt u het bedrag en de datum van elke invordering minstens {days} "
            "kalenderdagen vooraf."
        ),
        "revoke": (
            "U kunt dit mandaat op elk ogenblik herroepen door {creditor} te verwittigen, of "
            "op de pagina waarop u het ondertekende."
        ),
    },
    "fr": {
        "title_CORE": "Mandat de domiciliation européenne (SEPA Core)",
        "title_B2B": "Mandat de domiciliation européenne entre entreprises (SEPA B2B)",
        "reference": "Référence du mandat (UMR)\u00a0: {reference}",
        "creditor": "Créancier\u00a0: {creditor}, {address}",
        "identifier": "Identifiant du créancier\u00a0: {identifier}",
        "payment_type": "Type de paiement\u00a0: récurrent",
        "authorise": (
            "En signant ce mandat, vous autorisez {creditor} à envoyer des instructions à "
            "votre banque pour débiter votre compte, et votre banque à débiter votre compte "
            "conformément à ces instructions de {creditor}."
        ),
        "refund_CORE": (
            "Vous avez droit à un remboursement par votre banque selon les conditions de la "
            "convention que vous avez conclue avec elle. Le remboursement doit être demandé "
            "dans les 8 semaines qui suivent la date à laquelle votre compte a été débité."
        ),
        "statement_CORE": (
            "Vos droits concernant ce mandat sont expliqués dans un document que vous pouvez "
            "obtenir auprès de votre banque."
        ),
        "refund_B2B": (
            "Ce mandat est destiné uniquement aux paiements entre entreprises. Vous n'avez pas "
            "droit au remboursement par votre banque une fois votre compte débité, mais vous "
            "pouvez demander à votre banque de ne pas débiter votre compte jusqu'au jour où "
            "le paiement est dû."
        ),
        "statement_B2B": (
            "Avant le premier encaissement, communiquez les données de ce mandat à votre "
            "banque (ou confirmez-le-lui)\u00a0: votre banque vérifie chaque encaissement B2B "
            "sur cette base. Votre banque peut vous expliquer en détail vos droits et ses "
            "procédures."
        ),
        "notice": (
            "{creditor} vous communique le montant et la date de chaque encaissement au moins "
            "{days} jours calendrier à l'avance."
        ),
        "revoke": (
            "Vous pouvez révoquer ce mandat à tout moment en prévenant {creditor}, ou sur la "
            "page où vous l'avez signé."
        ),
    },
}

# The PDF's parts around the text, in the same three languages.
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "debtor": "Debtor",
        "account_holder": "Account holder",
        "address": "Address",
        "signatory": "Signed by",
        "signed": "Signed electronically on {date} at {time} (UTC), from IP address {ip}.",
        "revoked": "Revoked on {date} at {time} (UTC).",
    },
    "nl": {
        "debtor": "Schuldenaar",
        "account_holder": "Rekeninghouder",
        "address": "Adres",
        "signatory": "Ondertekend door",
        "signed": "Elektronisch ondertekend op {date} om {time} (UTC), vanaf IP-adres {ip}.",
        "revoked": "Herroepen op {date} om {time} (UTC).",
    },
    "fr": {
        "debtor": "Débiteur",
        "account_holder": "Titulaire du compte",
        "address": "Adresse",
        "signatory": "Signé par",
        "signed": "Signé électroniquement le {date} à {time} (UTC), depuis l'adresse IP {ip}.",
        "revoked": "Révoqué le {date} à {time} (UTC).",
    },
}


@dataclass(frozen=True)
class MandateFacts:
    """What the text names: the creditor and the mandate."""

    creditor: str
    creditor_address: str  # one line, parts separated by ", "
    creditor_identifier: str
    reference: str
    scheme: str  # CORE or B2B
    prenotification_days: int


def language_of(value: str | None) -> str:
    """``nl``, ``fr`` or ``en`` for a locale such as ``nl_BE``; English for anything else."""
    language = (value or "").replace("-", "_").split("_")[0].lower()
    return language if language in LANGUAGES else "en"


def title(facts: MandateFacts, language: str) -> str:
    return TEXTS[language_of(language)][f"title_{facts.scheme}"]


def text(facts: MandateFacts, language: str) -> str:
    """The whole mandate text, paragraphs separated by an empty line."""
    if facts.scheme not in (CORE, B2B):
        raise ValueError(f"the scheme is CORE or B2B, not {facts.scheme!r}")
    says = TEXTS[language_of(language)]
    values = {
        "creditor": facts.creditor,
        "address": facts.creditor_address,
        "identifier": facts.creditor_identifier,
        "reference": facts.reference,
        "days": facts.prenotification_days,
    }
    head = [says["reference"], says["creditor"], says["identifier"], says["payment_type"]]
    body = [
        says["authorise"],
        says[f"refund_{facts.scheme}"],
        says[f"statement_{facts.scheme}"],
        says["notice"],
        says["revoke"],
    ]
    paragraphs = [title(facts, language), "\n".join(head), *body]
    return "\n\n".join(paragraph.format(**values) for paragraph in paragraphs)
