"""The direct-debit pages in Dutch and French: every page speaks the reader's language,
texts the code stored in English (a mandate upload's problems, why a collection failed,
a bank transaction's note, reason codes) are translated when shown and stay English in
the database, and amounts inside messages are written the reader's way."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest

from collector.accounts import creditor
from collector.core.clock import local_today
from collector.direct_debit import collection_outcomes, debits, mandate_problems, reason_codes
from collector.direct_debit.models import BankTransaction, CollectionRun, MandateUpload
from collector.direct_debit.wording import N_, english
from collector.extensions import db
from collector.runtime.wordings import Wordings
from tests import test_bank_file_quirks_samples as sample
from tests.conftest import csrf_token
from tests.support.bank import CREDITOR_IBAN, make_creditor
from tests.support.factories import make_announcement, make_collection, make_invoice, make_mandate
from tests.test_mandate_upload import csv_bytes, upload_and_check

BANK = "/bank-files/"
DUTCH = {"Accept-Language": "nl-BE"}
FRENCH = {"Accept-Language": "fr-BE"}


def post(client, content: bytes, headers=None):
    """Upload a bank file as the admin's browser does, in its language."""
    data = {"file": (io.BytesIO(content), "bank.xml"), "csrf_token": csrf_token(client, BANK)}
    return client.post(BANK, data=data, content_type="multipart/form-data", headers=headers)


def h1(response) -> str:
    return re.sub(r"<[^>]+>", "", re.search(r"<h1>(.*?)</h1>", response.text, re.S).group(1))


# -- stored sentences, translated when shown ------------------------------------------------


def test_a_stored_sentence_is_shown_in_the_readers_language_with_its_values(app):
    sentences = Wordings(
        N_("The reference %(reference)s is on row %(first)s too: each mandate has its own."),
        N_(
            "Mandate %(reference)s is %(status)s and stays so; a new mandate needs a new reference."
        ),
        values={"status": {"revoked": N_("revoked")}},
    )
    stored = english(sentences.patterns[0][0], reference="MD (1)?", first=7)
    assert stored == "The reference MD (1)? is on row 7 too: each mandate has its own."

    with app.app_context(), app.test_request_context(headers=DUTCH):
        assert sentences.shown(stored) == (
            "De referentie MD (1)? staat ook op rij 7: elk mandaat heeft zijn eigen referentie."
        )
        revoked = "Mandate M-1 is revoked and stays so; a new mandate needs a new reference."
        assert sentences.shown(revoked).startswith("Mandaat M-1 is ingetrokken en blijft dat")
        assert sentences.shown("Closed by the customer") == "Closed by the customer"
        assert sentences.shown(None) == ""
    with app.app_context(), app.test_request_context():
        assert sentences.shown(stored) == stored


def test_reason_codes_are_stored_in_english_and_shown_translated(app):
    assert reason_codes.describe("am04") == "AM04 insufficient funds"
    with app.app_context(), app.test_request_context(headers=FRENCH):
        assert reason_codes.shown("AM04") == "AM04 fonds insuffisants"
        assert reason_codes.shown("MD06") == "MD06 remboursement demandé par le débiteur"
        assert reason_codes.shown(None) == "aucune raison donnée"
        assert reason_codes.shown_description("XX99 no description known for this code") == (
            "XX99 aucune description connue pour ce code"
        )
        assert reason_codes.shown_description("typed by hand") == "typed by hand"


def test_a_rejected_collection_reads_in_the_readers_language(viewer_client, app, clock):
    collection = make_collection()
    collection_outcomes.reject(collection, "AM04", "bank", clock.today())
    db.session.commit()
    assert collection.reason == "Rejected by the bank (AM04 insufficient funds)"  # as stored

    mandate_page = viewer_client.get(f"/mandates/{collection.mandate_id}", headers=FRENCH).text
    assert "Rejeté par la banque (AM04 fonds insuffisants)" in mandate_page
    run_page = viewer_client.get(f"/collections/{collection.run_id}", headers=DUTCH).text
    assert "Afgewezen door de bank (AM04 onvoldoende saldo)" in run_page
    assert "Rejected by the bank" not in run_page


def test_an_upload_s_row_problems_are_stored_in_english_and_shown_translated(
    admin_client, app, redis_conn
):
    make_mandate(reference="TAKEN-1")
    rows = [
        ("nobody", "MD-1", "BE68 5390 0754 7034", "", "31/02/2024", "", "", "CORE"),
        ("nobody", "MD-1", "BE68 5390 0754 7034", "", "2024-03-01", "", "", "SEPA"),
    ]
    upload, _html = upload_and_check(admin_client, app, redis_conn, csv_bytes(rows))
    messages = {p["message"] for p in upload.problems}
    assert "The reference MD-1 is on row 2 too: each mandate has its own." in messages
    assert "“31/02/2024” is not a date: write YYYY-MM-DD or DD/MM/YYYY." in messages

    dutch = admin_client.get(f"/mandates/uploads/{upload.id}", headers=DUTCH).text
    assert (
        "De referentie MD-1 staat ook op rij 2: elk mandaat heeft zijn eigen referentie." in dutch
    )
    assert "“31/02/2024” is geen datum: schrijf JJJJ-MM-DD of DD/MM/JJJJ." in dutch
    assert "Het schema is CORE of B2B, niet “SEPA”." in dutch
    assert "is not a date" not in dutch and "Problemen per rij" in dutch


def test_a_file_that_cannot_be_read_says_so_in_the_readers_language(admin_client, app, redis_conn):
    upload, _html = upload_and_check(
        admin_client, app, redis_conn, csv_bytes([], header=("customerNumber", "iban"))
    )
    assert upload.file_error.startswith("Missing column(s): mandateNumber, bic, signDate.")

    french = admin_client.get(f"/mandates/uploads/{upload.id}", headers=FRENCH).text
    assert "Colonne(s) manquante(s) : mandateNumber, bic, signDate." in french


def test_every_sentence_an_upload_stores_is_recognised(app):
    """A sentence no pattern matches would silently stay English on the page."""
    shown = mandate_problems.PROBLEMS.patterns + mandate_problems.FILE_ERRORS.patterns
    for msgid, pattern in shown:
        values = {name: f"<{name}>" for name in re.findall(r"%\((\w+)\)s", msgid)}
        assert pattern.fullmatch(english(msgid, **values)), msgid


def test_a_refused_bank_file_is_told_why_in_the_readers_language(admin_client, app):
    make_creditor()
    answer = post(admin_client, b"%PDF-1.7 statement", headers=FRENCH)

    assert answer.status_code == 400
    assert (
        "Ce n’est pas un fichier camt.053, camt.054 ou pain.002, ni un fichier CODA ou MT940 : "
        "c’est un document PDF (un extrait à lire, pas un fichier bancaire). Fichiers "
        "bancaires lus : camt.053 et camt.054 (ISO 20022, version .001.02 et suivantes); "
    ) in answer.text.replace("&#39;", "'")
    english = post(admin_client, b"<broken", headers={})
    assert "The file is not well-formed XML (line 1, column" in english.text


# -- amounts in messages, the reader's way --------------------------------------------------


def test_a_bank_note_writes_amounts_as_the_uploader_reads_them(admin_client, app):
    # The note is stored as the uploader reads money; its words stay English (the row
    # is read in every language) and are translated on the page.
    make_creditor()
    collection = make_collection()
    detail = sample.collected(collection.end_to_end_id, "120.50")
    content = sample.statement(
        (sample.iban_account(CREDITOR_IBAN), [sample.entry("120.50", [detail])])
    )

    assert post(admin_client, content, headers=DUTCH).status_code == 302
    (row,) = db.session.scalars(db.select(BankTransaction)).all()
    assert row.note == (
        f"Collection {collection.end_to_end_id} was for €\xa0121,00, but the bank booked "
        "€\xa0120,50: nothing was applied. Check with the bank, then dismiss it or match it "
        "by hand."
    )
    french = admin_client.get("/bank-files/unmatched", headers=FRENCH).text
    assert (
        f"L’encaissement {collection.end_to_end_id} portait sur €\xa0121,00, mais la banque a "
        "comptabilisé €\xa0120,50"
    ) in french


def test_the_flash_after_a_match_writes_the_amount_the_readers_way(admin_client, app):
    make_creditor()
    invoice = make_invoice(number="F-77")
    content = sample.statement(
        (sample.iban_account(CREDITOR_IBAN), [sample.entry("121.00", [sample.transfer("121.00")])])
    )
    post(admin_client, content)
    (tx,) = db.session.scalars(db.select(BankTransaction)).all()
    answer = admin_client.post(
        f"/bank-files/transactions/{tx.id}/match",
        data={"document": invoice.number, "csrf_token": csrf_token(admin_client, "/bank-files/")},
        headers=FRENCH,
        follow_redirects=True,
    )
    assert "121,00\xa0€ rapproché de F-77." in answer.text


def test_a_changed_preview_names_the_new_total_as_the_reader_writes_money(admin_client, app):
    creditor.update("Acme NV", "BE71 0961 2345 6769", "GKCCBEBB", "BE69ZZZ050D000000008")
    mandate = make_mandate()
    invoice = make_invoice(customer=mandate.customer, profile=mandate.profile)
    make_announcement(invoice, mandate, debits.next_business_day(local_today() + timedelta(days=3)))
    until = (local_today() + timedelta(days=7)).isoformat()
    asked = {"scheme": "CORE", "until": until}
    html = admin_client.get("/collections/new", query_string=asked, headers=FRENCH).text
    assert re.search(r'data-group="FRST \d{4}-\d{2}-\d{2}"', html)  # ISO in every language

    answer = admin_client.post(
        "/collections/new",
        data={"csrf_token": csrf_token(admin_client, "/collections/new"), **asked, "count": "2"}
        | {"total": "1.00"},
        headers=DUTCH,
    )
    assert answer.status_code == 409
    assert "nu 1 domiciliëring voor €\xa0121,00. Controleer de cijfers opnieuw." in answer.text
    assert db.session.scalars(db.select(CollectionRun)).all() == []


# -- every page in Dutch and French ---------------------------------------------------------


@pytest.fixture
def pages(app):
    """One of each direct-debit page, with something on it."""
    make_creditor()
    collection = make_collection()
    upload = MandateUpload(filename="m.csv", file_key="0" * 64, size=10, problems=[])
    db.session.add(upload)
    db.session.commit()
    return {
        "/mandates/": ("Mandaten", "Mandats"),
        f"/mandates/{collection.mandate_id}": ("Mandaat", "Mandat"),
        "/mandates/uploads/new": ("Een CSV met mandaten opladen", "Charger un CSV de mandats"),
        f"/mandates/uploads/{upload.id}": ("Opgeladen mandaten", "Chargement de mandats"),
        "/collections/": ("Inningen per domiciliëring", "Encaissements par domiciliation"),
        f"/collections/{collection.run_id}": ("Inningsronde", "Série d’encaissement"),
        "/collections/new": ("Nieuwe inningsronde", "Nouvelle série d’encaissement"),
        "/bank-files/": ("Bankbestanden", "Fichiers bancaires"),
        "/bank-files/unmatched": ("Niet-gekoppeld geld", "Montants non rapprochés"),
    }


def test_every_direct_debit_page_speaks_dutch_and_french(admin_client, pages):
    for path, (dutch, french) in pages.items():
        nl = admin_client.get(path, headers=DUTCH)
        fr = admin_client.get(path, headers=FRENCH)
        assert nl.status_code == fr.status_code == 200, path
        assert h1(nl).startswith(dutch), (path, h1(nl))
        assert h1(fr).startswith(french), (path, h1(fr))
        for english_text in ("Customer", "Search", "Reason", "Amount", "Filter"):
            assert f">{english_text}<" not in nl.text and f">{english_text}<" not in fr.text
