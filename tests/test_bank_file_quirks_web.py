"""The bank files pages show what the quirks left for a person: a collection credited
another amount on the unmatched list with why, and the accounts a statement held that
are not ours."""

from __future__ import annotations

import io
import re

import sqlalchemy as sa

from collector.direct_debit.models import BankFile, CollectionStatus
from collector.extensions import db
from tests import test_bank_file_quirks_samples as sample
from tests.conftest import csrf_token
from tests.support.bank import CREDITOR_IBAN, OTHER_IBAN, make_creditor
from tests.support.factories import make_collection

INDEX = "/bank-files/"


def post_file(client, content: bytes, name: str):
    data = {"file": (io.BytesIO(content), name), "csrf_token": csrf_token(client, INDEX)}
    return client.post(INDEX, data=data, content_type="multipart/form-data")


def text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_a_mismatched_credit_and_another_account_are_shown_for_a_person(admin_client, app):
    make_creditor()
    collection = make_collection()
    detail = sample.collected(collection.end_to_end_id, "1.50", "CHF")
    content = sample.statement(
        (sample.iban_account(CREDITOR_IBAN), [sample.entry("1.50", [detail], currency="CHF")]),
        (sample.iban_account(OTHER_IBAN), []),
    )
    response = post_file(admin_client, content, "two-accounts.xml")
    assert response.status_code == 302
    page = text(admin_client.get(response.headers["Location"]))
    assert "two-accounts.xml: 1 unmatched, 1 other account" in page  # the flash
    assert '<dd data-count="other_accounts">1</dd>' in page
    assert "<dd data-other-accounts><code>BE71 0961 2345 6769</code></dd>" in page

    listing = text(admin_client.get("/bank-files/unmatched"))
    assert (
        f"Collection {collection.end_to_end_id} was for €121.00, but the bank booked "
        "CHF1.50: nothing was applied."
    ) in listing
    db.session.expire_all()
    assert collection.status == CollectionStatus.PENDING
    assert db.session.scalars(sa.select(BankFile)).one().account_iban == CREDITOR_IBAN
