"""Customer emails: the invitation to pay and the reminder, rendered in nl, fr and en."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from collector.mail.letters import DocumentFacts, Letter, invitation, language_of, reminder
from collector.mail.smtp import Email, build_message

URL = "https://pay.example/p/7f3a?lang=nl&src=mail"
URL_IN_HTML = 'href="https://pay.example/p/7f3a?lang=nl&amp;src=mail"'
REFERENCE = "+++090/9337/55493+++"

FACTS = DocumentFacts(
    number="2026/0042",
    creditor="Acme NV",
    customer_name="Bakkerij Peeters",
    amount_due=Decimal("1234.56"),
    currency="EUR",
    invoice_date=date(2026, 3, 1),
    due_date=date(2026, 3, 31),
    payment_url=URL,
    payment_reference=REFERENCE,
    has_pdf=True,
)

# Babel separates the sign and the digits with no-break spaces (U+00A0, U+202F in French).
AMOUNT = {"nl": "€\xa01.234,56", "fr": "1\u202f234,56\xa0€", "en": "€1,234.56"}
INVOICE_DATE = {"nl": "1 maart 2026", "fr": "1er mars 2026", "en": "1 March 2026"}
DUE_DATE = {"nl": "31 maart 2026", "fr": "31 mars 2026", "en": "31 March 2026"}
GREETING = {
    "nl": "Beste Bakkerij Peeters,",
    "fr": "Bonjour Bakkerij Peeters,",
    "en": "Dear Bakkerij Peeters,",
}
PDF_SENTENCE = {
    "nl": "U vindt de factuur als pdf in bijlage.",
    "fr": "Vous trouverez la facture en pièce jointe au format PDF.",
    "en": "The invoice is attached to this email as a PDF.",
}
ALREADY_PAID = {
    "nl": "Hebt u intussen al betaald, dan mag u dit bericht negeren.",
    "fr": "Si vous avez effectué le paiement entre-temps, "
    "nous vous prions de ne pas tenir compte de ce message.",
    "en": "If you have paid in the meantime, please ignore this message.",
}
SIGN_OFF = {"nl": "Met vriendelijke groeten,", "fr": "Cordialement,", "en": "Kind regards,"}


def bodies(letter: Letter) -> tuple[str, str]:
    return letter.text, letter.html


def assert_common_facts(letter: Letter, language: str) -> None:
    """What both letters say in both bodies: greeting, amount, due date, reference, sign-off."""
    for body in bodies(letter):
        assert GREETING[language] in body
        assert AMOUNT[language] in body
        assert INVOICE_DATE[language] in body
        assert DUE_DATE[language] in body
        assert REFERENCE in body
        assert PDF_SENTENCE[language] in body
        assert SIGN_OFF[language] in body
        assert "Acme NV" in body
    assert URL in letter.text
    assert letter.html.count(URL_IN_HTML) == 2  # the button and the copyable link
    assert f'<html lang="{language}">' in letter.html


@pytest.mark.parametrize(
    ("language", "subject", "amount_sentence", "button"),
    [
        (
            "nl",
            "Factuur 2026/0042 van Acme NV",
            "Het te betalen bedrag is € 1.234,56; de vervaldatum is 31 maart 2026.",
            "Betaal € 1.234,56",
        ),
        (
            "fr",
            "Facture 2026/0042 d’Acme NV",
            "Le montant à payer est de 1 234,56 €, à régler au plus tard le 31 mars 2026.",
            "Payer 1 234,56 €",
        ),
        (
            "en",
            "Invoice 2026/0042 from Acme NV",
            "The amount due is €1,234.56, to be paid by 31 March 2026.",
            "Pay €1,234.56",
        ),
    ],
)
def test_invitation_in_each_language(language, subject, amount_sentence, button):
    letter = invitation(FACTS, language)

    assert letter.subject == subject
    assert_common_facts(letter, language)
    for body in bodies(letter):
        assert amount_sentence in body.replace("\xa0", " ").replace("\u202f", " ")
        assert ALREADY_PAID[language] not in body
    assert f">{button}</a>" in letter.html.replace("\xa0", " ").replace("\u202f", " ")


@pytest.mark.parametrize(
    ("language", "subject", "due_sentence"),
    [
        (
            "nl",
            "Herinnering: factuur 2026/0042 is 7 dagen over de vervaldatum",
            "Het bedrag van € 1.234,56 moest uiterlijk op 31 maart 2026 betaald zijn.",
        ),
        (
            "fr",
            "Rappel : facture 2026/0042 échue depuis 7 jours",
            "Le montant de 1 234,56 € arrivait à échéance le 31 mars 2026.",
        ),
        (
            "en",
            "Reminder: invoice 2026/0042 is 7 days overdue",
            "The amount of €1,234.56 was due on 31 March 2026.",
        ),
    ],
)
def test_reminder_in_each_language(language, subject, due_sentence):
    letter = reminder(FACTS, language, days_overdue=7)

    assert letter.subject.replace("\xa0", " ") == subject
    assert_common_facts(letter, language)
    for body in bodies(letter):
        assert due_sentence in body.replace("\xa0", " ").replace("\u202f", " ")
        assert ALREADY_PAID[language] in body


@pytest.mark.parametrize(
    ("language", "subject"),
    [
        ("nl", "Herinnering: factuur 2026/0042 is 1 dag over de vervaldatum"),
        ("fr", "Rappel : facture 2026/0042 échue depuis 1 jour"),
        ("en", "Reminder: invoice 2026/0042 is 1 day overdue"),
    ],
)
def test_reminder_one_day_overdue_is_singular(language, subject):
    assert reminder(FACTS, language, days_overdue=1).subject.replace("\xa0", " ") == subject


def test_reminder_refuses_an_invoice_not_yet_overdue():
    with pytest.raises(ValueError, match="overdue"):
        reminder(FACTS, "en", days_overdue=0)


@pytest.mark.parametrize("letter", [invitation, lambda f, lang: reminder(f, lang, 3)])
def test_without_pdf_reference_or_due_date_those_sentences_are_left_out(letter):
    facts = replace(FACTS, has_pdf=False, payment_reference=None, due_date=None)

    rendered = letter(facts, "en")

    for body in bodies(rendered):
        assert PDF_SENTENCE["en"] not in body
        assert "structured reference" not in body
        assert "31 March 2026" not in body
        assert "€1,234.56" in body
        assert "None" not in body
    assert URL in rendered.text


@pytest.mark.parametrize(
    ("stored", "language"),
    [
        ("nl", "nl"),
        ("nl-BE", "nl"),
        ("FR", "fr"),
        ("fr_BE", "fr"),
        (" en-GB ", "en"),
        (None, "en"),
        ("", "en"),
        ("de", "en"),
        ("nederlands", "en"),
    ],
)
def test_language_of_teamleader_codes(stored, language):
    assert language_of(stored) == language


def test_unknown_language_gets_the_english_letter():
    assert invitation(FACTS, "de") == invitation(FACTS, "en")
    assert reminder(FACTS, None, 7).subject == "Reminder: invoice 2026/0042 is 7 days overdue"


@pytest.mark.parametrize("letter", [invitation, lambda f, lang: reminder(f, lang, 7)])
@pytest.mark.parametrize("language", ["nl", "fr", "en"])
def test_hostile_names_are_escaped_in_html_and_plain_in_text(letter, language):
    facts = replace(FACTS, customer_name="<script>alert(1)</script>", creditor="Dupont & Fils")

    rendered = letter(facts, language)

    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "Dupont &amp; Fils" in rendered.html
    assert "Dupont & Fils" not in rendered.html
    assert "<script>alert(1)</script>" in rendered.text
    assert "Dupont & Fils" in rendered.text
    assert "&amp;" not in rendered.text


@pytest.mark.parametrize("language", ["nl", "fr", "en"])
def test_subject_keeps_the_creditor_name_plain(language):
    facts = replace(FACTS, creditor="Dupont & Fils <script>")

    assert invitation(facts, language).subject.endswith(" Dupont & Fils <script>")


def test_subject_line_breaks_are_flattened_and_the_message_builds():
    facts = replace(FACTS, number="2026/0042\r\nBcc: victim@example.com", creditor="Acme\nNV")

    for letter in (invitation(facts, "en"), reminder(facts, "nl", 7)):
        assert "\r" not in letter.subject and "\n" not in letter.subject
        email = Email("klant@example.com", letter.subject, letter.text)
        message = build_message("Acme NV <billing@acme.example>", email)
        assert message["Bcc"] is None
    assert invitation(facts, "en").subject == (
        "Invoice 2026/0042 Bcc: victim@example.com from Acme NV"
    )


def test_facts_refuse_a_float_amount_and_a_non_web_link():
    with pytest.raises(TypeError, match="Decimal"):
        replace(FACTS, amount_due=1234.56)
    with pytest.raises(ValueError, match="http"):
        replace(FACTS, payment_url="javascript:alert(1)")
