"""The bank files pages: upload (admins), refusals shown on the form, a file's summary,
and the unmatched list where an admin matches or dismisses money."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from collector.direct_debit import bank_files
from collector.direct_debit.models import (
    BankFile,
    BankTransaction,
    BankTransactionStatus,
    CollectionStatus,
)
from collector.documents.models import Invoice, InvoiceState
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from sandbox import bank
from tests.conftest import csrf_token
from tests.payments.test_bank_files import BOMB
from tests.support.bank import CREDITOR_IBAN, OTHER_IBAN, make_creditor, pain008_for
from tests.support.factories import make_collection, make_invoice

INDEX = "/bank-files/"
UNMATCHED = "/bank-files/unmatched"
DAY = date(2026, 12, 3)


def post_file(client, content: bytes, name: str = "camt054.xml", token: str | None = None):
    token = csrf_token(client, INDEX) if token is None else token
    data = {"file": (io.BytesIO(content), name)}
    if token:
        data["csrf_token"] = token
    return client.post(INDEX, data=data, content_type="multipart/form-data")


def files() -> int:
    return db.session.scalar(sa.select(sa.func.count(BankFile.id)))


def text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def unmatched_transfer(app, amount: str = "121.00", remittance: str = "invoice 2026 / 77") -> int:
    """The id of a transfer without a reference, uploaded in a notification."""
    content = bank.notification(
        CREDITOR_IBAN, DAY, [bank.Transfer(Decimal(amount), remittance=remittance)]
    )
    store = runtime_setup.document_store(app)
    done = bank_files.upload(store, "transfers.xml", content, "test", DAY)
    return done.transactions[0].id


def test_an_admin_uploads_a_settlement_and_sees_what_it_did(admin_client, app):
    make_creditor()
    collection = make_collection()
    content = bank.settle(pain008_for(collection.run), DAY)

    response = post_file(admin_client, content, "settled.xml")
    assert response.status_code == 302
    bank_file = db.session.scalars(sa.select(BankFile)).one()
    assert response.headers["Location"].endswith(f"/bank-files/{bank_file.id}")
    page = text(admin_client.get(response.headers["Location"]))
    assert "settled.xml: 1 settled" in page  # the flash
    assert '<dd data-count="settled">1</dd>' in page
    assert collection.end_to_end_id in page
    db.session.expire_all()
    assert collection.status == CollectionStatus.SETTLED
    assert collection.invoice.state == InvoiceState.PAID

    listing = text(admin_client.get(INDEX))
    assert f'data-file="{bank_file.id}"' in listing and "settled.xml" in listing
    download = admin_client.get(f"/bank-files/{bank_file.id}/download")
    assert download.status_code == 200 and download.data == content


def test_refused_files_are_shown_on_the_form_and_change_nothing(admin_client, app):
    make_creditor()
    other = bank.statement(OTHER_IBAN, DAY, [bank.Transfer(Decimal("5.00"))])
    cases = [
        (b"<Document><Stmt>", "The file is not well-formed XML (line 1"),
        (BOMB, "can expand without end (an XML bomb)"),
        (other, "This statement is for account BE71 0961 2345 6769, not ours BE62 5100 0754 7061."),
    ]
    for content, message in cases:
        response = post_file(admin_client, content)
        assert response.status_code == 400
        page = text(response)
        assert '<p class="error" data-field="file">' in page
        assert message in page
    assert files() == 0


def test_uploading_nothing_asks_for_a_file(admin_client, app):
    response = admin_client.post(
        INDEX,
        data={"csrf_token": csrf_token(admin_client, INDEX)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and "Choose the file to upload." in text(response)


def test_the_same_file_twice_is_refused_on_the_form(admin_client, app):
    make_creditor()
    content = bank.notification(CREDITOR_IBAN, DAY, [bank.Transfer(Decimal("3.00"))])
    assert post_file(admin_client, content, "a.xml").status_code == 302
    again = post_file(admin_client, content, "b.xml")
    assert again.status_code == 400
    assert "This file was already uploaded on" in text(again) and "(as a.xml)" in text(again)
    assert files() == 1


def test_an_upload_without_the_csrf_token_is_refused(admin_client, app):
    make_creditor()
    content = bank.notification(CREDITOR_IBAN, DAY, [bank.Transfer(Decimal("3.00"))])
    response = post_file(admin_client, content, token="")
    assert response.status_code == 400
    assert files() == 0


def test_viewers_look_but_do_not_upload_match_or_dismiss(viewer_client, app):
    make_creditor()
    tx_id = unmatched_transfer(app)
    listing = text(viewer_client.get(INDEX))
    assert "Uploaded" in listing and 'type="file"' not in listing
    page = text(viewer_client.get(UNMATCHED))
    assert f'data-transaction="{tx_id}"' in page and "/match" not in page
    token = csrf_token(viewer_client, "/settings/creditor")
    content = bank.notification(CREDITOR_IBAN, DAY, [bank.Transfer(Decimal("1.00"))])
    assert post_file(viewer_client, content, token=token).status_code == 403
    for action, field in (("match", "document"), ("dismiss", "reason")):
        response = viewer_client.post(
            f"/bank-files/transactions/{tx_id}/{action}", data={field: "x", "csrf_token": token}
        )
        assert response.status_code == 403
    assert files() == 1


def test_anonymous_visitors_are_sent_to_log_in(client, app):
    for path in (INDEX, UNMATCHED):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_admin_matches_unmatched_money_by_invoice_number(admin_client, app):
    make_creditor()
    invoice = make_invoice(number="2026 / 77")
    tx_id = unmatched_transfer(app)
    page = text(admin_client.get(UNMATCHED))
    assert "The transfer carries no structured reference." in page
    token = csrf_token(admin_client, UNMATCHED)
    url = f"/bank-files/transactions/{tx_id}/match"

    wrong = admin_client.post(url, data={"document": "2026 / 78", "csrf_token": token})
    assert wrong.status_code == 400
    assert "No invoice is numbered or referenced 2026 / 78." in text(wrong)
    assert 'value="2026 / 78"' in text(wrong)

    done = admin_client.post(url, data={"document": "2026 / 77", "csrf_token": token})
    assert done.status_code == 302
    db.session.expire_all()
    invoice = db.session.get(Invoice, invoice.id)
    assert invoice.state == InvoiceState.PAID
    tx = db.session.get(BankTransaction, tx_id)
    assert (tx.status, tx.invoice_id, tx.resolved_by) == (
        BankTransactionStatus.MATCHED,
        invoice.id,
        "user:admin@example.com",
    )
    assert "Nothing unmatched." in text(admin_client.get(UNMATCHED))


def test_an_admin_dismisses_money_with_a_reason(admin_client, app):
    make_creditor()
    tx_id = unmatched_transfer(app, "9.99", "wrong account")
    token = csrf_token(admin_client, UNMATCHED)
    url = f"/bank-files/transactions/{tx_id}/dismiss"
    empty = admin_client.post(url, data={"reason": "  ", "csrf_token": token})
    assert empty.status_code == 400 and "Say why" in text(empty)
    assert (
        admin_client.post(url, data={"reason": "Sent back", "csrf_token": token}).status_code == 302
    )
    db.session.expire_all()
    tx = db.session.get(BankTransaction, tx_id)
    assert (tx.status, tx.note) == (BankTransactionStatus.DISMISSED, "Sent back")
    again = admin_client.post(url, data={"reason": "Twice", "csrf_token": token})
    assert again.status_code == 409 and "dismissed already" in text(again)
