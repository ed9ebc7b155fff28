"""The mandates screens: the list, one mandate and revoking it, the customer's mandates;
who may change what, and CSRF."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from collector.direct_debit.models import (
    Collection,
    CollectionRun,
    CollectionStatus,
    Mandate,
    MandateScheme,
    MandateStatus,
)
from collector.extensions import db
from tests.conftest import csrf_token
from tests.support.factories import make_customer, make_invoice, make_mandate, make_profile

ROW = re.compile(r'<tr data-mandate="(\d+)"')


def shown(response) -> list[int]:
    return [int(i) for i in ROW.findall(response.get_data(as_text=True))]


def reload(mandate: Mandate) -> Mandate:
    db.session.expire_all()
    return db.session.get(Mandate, mandate.id)


@pytest.fixture
def book(app):
    sepa = make_profile(name="SEPA", allow_direct_debit=True)
    acme = make_customer(name="Acme NV", profile=sepa)
    brol = make_customer(name="Brol BV", profile=sepa)
    return {
        "acme": acme,
        "brol": brol,
        "first": make_mandate(
            customer=acme, profile=sepa, reference="ACME-1", signed_on=date(2025, 1, 15)
        ),
        "second": make_mandate(
            customer=brol, profile=sepa, reference="BROL-1", status=MandateStatus.REVOKED
        ),
        "third": make_mandate(customer=brol, profile=sepa, reference="BROL-2"),
    }


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, ["third", "second", "first"]),  # newest first
        ({"status": "active"}, ["third", "first"]),
        ({"status": "revoked"}, ["second"]),
        ({"q": "brol-"}, ["third", "second"]),  # reference, any case
        ({"q": "acme nv"}, ["first"]),  # customer name
        ({"q": "brol", "status": "active"}, ["third"]),
    ],
)
def test_the_list_filters_by_status_and_searches(viewer_client, book, args, expected):
    response = viewer_client.get("/mandates/", query_string=args)

    assert response.status_code == 200
    assert shown(response) == [book[name].id for name in expected]


def test_the_list_searches_customer_numbers_and_pages(viewer_client, book):
    number = book["acme"].customer_number
    assert shown(viewer_client.get("/mandates/", query_string={"q": number})) == [book["first"].id]

    page = viewer_client.get("/mandates/", query_string={"per_page": 2, "page": 2})
    assert shown(page) == [book["first"].id]
    assert "Page 2 of 2" in page.get_data(as_text=True)


def test_a_bad_filter_is_a_400_with_its_reason(viewer_client, book):
    response = viewer_client.get("/mandates/", query_string={"status": "gone"})

    assert response.status_code == 400
    assert 'data-field="status"' in response.get_data(as_text=True)


def test_a_mandate_page_shows_its_details(viewer_client, book):
    mandate = book["first"]

    html = viewer_client.get(f"/mandates/{mandate.id}").get_data(as_text=True)

    assert "<code>BE68 5390 0754 7034</code>" in html
    assert "not yet: the first collection is FRST" in html
    assert "Lapses on</dt><dd>15 Jan 2028" in html
    assert "Acme NV" in html
    assert "Revoke" not in html  # a viewer has no form
    assert viewer_client.get("/mandates/99999").status_code == 404


def test_the_customer_page_lists_its_mandates(viewer_client, book):
    html = viewer_client.get(f"/customers/{book['brol'].id}").get_data(as_text=True)

    section = html.split('id="mandates"')[1].split("</section>")[0]
    assert [int(i) for i in ROW.findall(section)] == [book["third"].id, book["second"].id]
    assert "BROL-2" in section and "revoked" in section
    empty = viewer_client.get(f"/customers/{make_customer().id}").get_data(as_text=True)
    assert "No mandates." in empty


def test_an_admin_revokes_with_a_reason(admin_client, book):
    mandate = book["first"]
    path = f"/mandates/{mandate.id}"

    refused = admin_client.post(
        f"{path}/revoke", data={"csrf_token": csrf_token(admin_client, path)}
    )
    assert refused.status_code == 400
    assert "Say why the mandate is revoked." in refused.get_data(as_text=True)
    assert reload(mandate).status == MandateStatus.ACTIVE

    response = admin_client.post(
        f"{path}/revoke",
        data={"csrf_token": csrf_token(admin_client, path), "reason": "Account closed"},
    )
    assert response.status_code == 302
    mandate = reload(mandate)
    assert (mandate.status, mandate.status_reason) == (
        MandateStatus.REVOKED,
        "Account closed (user:admin@example.com)",
    )
    html = admin_client.get(path).get_data(as_text=True)
    assert "Mandate revoked; its reference is never used again." in html
    assert "Account closed" in html

    again = admin_client.post(
        f"{path}/revoke", data={"csrf_token": csrf_token(admin_client, path), "reason": "x"}
    )
    assert again.status_code == 409
    assert "is revoked already" in again.get_data(as_text=True)


def test_revoking_warns_of_collections_in_a_file_not_yet_sent(admin_client, book):
    mandate = book["first"]
    run = CollectionRun(
        scheme=MandateScheme.CORE,
        message_id="RUN-1",
        pain_version="pain.008.001.02",
        total=Decimal("121.00"),
        collect_until=date(2026, 12, 15),
    )
    db.session.add(run)
    db.session.flush()
    invoice = make_invoice(customer=book["acme"])
    db.session.add(
        Collection(
            run_id=run.id,
            invoice_id=invoice.id,
            mandate_id=mandate.id,
            amount=Decimal("121.00"),
            sequence_type="FRST",
            collection_date=run.collect_until,
            end_to_end_id="E2E-1",
            status=CollectionStatus.PENDING,
        )
    )
    db.session.commit()
    path = f"/mandates/{mandate.id}"

    admin_client.post(
        f"{path}/revoke",
        data={"csrf_token": csrf_token(admin_client, path), "reason": "Closed"},
    )

    html = admin_client.get(path).get_data(as_text=True)
    assert "1 collection on it is in a run not yet sent to the bank" in html
    assert "E2E-1" not in html and invoice.number in html  # its collections are listed


def test_viewers_cannot_revoke(viewer_client, book):
    path = f"/mandates/{book['first'].id}"

    response = viewer_client.post(
        f"{path}/revoke", data={"csrf_token": csrf_token(viewer_client, path), "reason": "x"}
    )

    assert response.status_code == 403
    assert reload(book["first"]).status == MandateStatus.ACTIVE


def test_a_revoke_without_the_csrf_token_is_refused(admin_client, book):
    response = admin_client.post(f"/mandates/{book['first'].id}/revoke", data={"reason": "x"})

    assert response.status_code == 400
    assert "without its security token" in response.get_data(as_text=True)
    assert reload(book["first"]).status == MandateStatus.ACTIVE


def test_logged_out_visitors_are_sent_to_log_in(client, book):
    assert client.get("/mandates/").status_code == 302
    assert client.get(f"/mandates/{book['first'].id}").status_code == 302
