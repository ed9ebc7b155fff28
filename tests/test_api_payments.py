"""/api/v1/invoices/<id>/payments, /mark-paid and /archive: exact shapes, 422s with the
field, 409 when the state forbids it, 404 for an unknown document."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from collector.accounts import users
from collector.core.columns import utcnow
from collector.documents import ledger
from collector.documents.models import (
    DocumentKind,
    Invoice,
    InvoiceState,
    PaymentKind,
    PaymentSource,
)
from collector.extensions import db
from collector.teamleader.models import SyncStatus, TeamleaderSync
from tests.support.factories import make_invoice

PAID_AT = datetime(2026, 11, 5, 10, 30, tzinfo=UTC)
PAYMENT_KEYS = {
    "id",
    "occurred_at",
    "source",
    "kind",
    "amount",
    "currency",
    "reference",
    "reason",
    "counts",
    "cancelled_at",
    "cancel_reason",
}


@pytest.fixture
def api(client, app):
    """A call under /api/v1 with a valid key named "erp"."""
    _key, plain = users.create_api_key("erp")

    def call(method, path, body=None, **kwargs):
        headers = {"Authorization": f"Bearer {plain}"}
        return client.open(f"/api/v1{path}", method=method, json=body, headers=headers, **kwargs)

    return call


@pytest.fixture
def invoice(app):
    return make_invoice(number="2026/0042")


def reload(invoice: Invoice) -> Invoice:
    db.session.expire_all()
    return db.session.get(Invoice, invoice.id)


def test_the_ledger_oldest_first_with_cancelled_rows(api, invoice):
    payment = ledger.record_payment(
        invoice,
        key="provider:tr_1",
        amount=Decimal("21.00"),
        occurred_at=PAID_AT,
        source=PaymentSource.PROVIDER,
        actor="provider",
        reference="tr_1",
    )
    refund = ledger.record_reversal(
        payment,
        key="provider:re_1",
        kind=PaymentKind.REFUND,
        amount=Decimal("5.50"),
        occurred_at=PAID_AT + timedelta(days=1),
        actor="provider",
        reason="Goodwill",
        reference="re_1",
    )
    ledger.cancel_entry(refund, "Refund failed at the provider", actor="provider")
    db.session.commit()

    response = api("GET", f"/invoices/{invoice.id}/payments")

    assert response.status_code == 200
    first, second = response.json["data"]
    assert set(first) == PAYMENT_KEYS
    assert first == {
        "id": payment.id,
        "occurred_at": "2026-11-05T10:30:00+00:00",
        "source": "provider",
        "kind": "payment",
        "amount": "21.00",
        "currency": "EUR",
        "reference": "tr_1",
        "reason": None,
        "counts": True,
        "cancelled_at": None,
        "cancel_reason": None,
    }
    assert second["id"] == refund.id and second["kind"] == "refund"
    assert second["amount"] == "-5.50" and second["reason"] == "Goodwill"
    assert second["counts"] is False and second["cancelled_at"] is not None
    assert second["cancel_reason"] == "Refund failed at the provider"


def test_no_payments_and_unknown_documents(api, invoice):
    assert api("GET", f"/invoices/{invoice.id}/payments").json == {"data": []}
    missing = api("GET", "/invoices/4242/payments")
    assert missing.status_code == 404 and missing.json["message"]


def test_mark_paid(api, invoice):
    body = {"reason": "Paid in cash at the desk", "paid_at": "2026-11-10T09:15:00Z"}
    response = api("POST", f"/invoices/{invoice.id}/mark-paid", body)

    assert response.status_code == 200, response.json
    data = response.json["data"]
    assert data["id"] == invoice.id and data["state"] == "PAID" and data["amount_due"] == "0.00"
    assert data["teamleader_sync"] == {"status": "pending", "last_error": None, "synced_at": None}
    assert any("Paid in cash at the desk" in e["message"] for e in data["events"])
    [payment] = reload(invoice).payments
    assert payment.source == PaymentSource.MANUAL and payment.amount == Decimal("121.00")
    assert payment.occurred_at == datetime(2026, 11, 10, 9, 15, tzinfo=UTC)
    assert payment.actor == "api:erp"

    listed = api("GET", f"/invoices/{invoice.id}/payments").json["data"]
    assert [(p["source"], p["amount"]) for p in listed] == [("manual", "121.00")]


def test_mark_paid_without_a_date_is_paid_now(api, invoice):
    response = api("POST", f"/invoices/{invoice.id}/mark-paid", {"reason": "cash"})
    assert response.status_code == 200
    [payment] = reload(invoice).payments
    assert payment.occurred_at == utcnow()  # the test clock stands still


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "reason"),
        ({"reason": None}, "reason"),
        ({"reason": "   "}, "reason"),  # the service's rule
        ({"reason": "x" * 301}, "reason"),
        ({"reason": "cash", "paid_at": "yesterday"}, "paid_at"),
        ({"reason": "cash", "paid_at": "2999-01-01T00:00:00Z"}, "paid_at"),
        ({"reason": "cash", "colour": "red"}, "colour"),
    ],
)
def test_mark_paid_refuses_bad_fields_with_422(api, invoice, body, field):
    response = api("POST", f"/invoices/{invoice.id}/mark-paid", body)

    assert response.status_code == 422
    assert field in response.json["errors"] and response.json["message"]
    invoice = reload(invoice)
    assert invoice.state == InvoiceState.BOOKED and invoice.payments == []


def test_mark_paid_is_409_when_the_state_forbids_it(api, app):
    paid = make_invoice(number="2026/0099", state=InvoiceState.PAID, amount_due=Decimal("0.00"))
    note = make_invoice(kind=DocumentKind.CREDIT_NOTE)

    response = api("POST", f"/invoices/{paid.id}/mark-paid", {"reason": "cash"})
    assert response.status_code == 409
    assert response.json == {"message": "2026/0099 is PAID: nothing to mark as paid.", "errors": {}}
    assert api("POST", f"/invoices/{note.id}/mark-paid", {"reason": "x"}).status_code == 409
    assert reload(paid).payments == []


def test_unknown_documents_are_404(api, app):
    assert api("POST", "/invoices/4242/mark-paid", {"reason": "cash"}).status_code == 404
    assert api("POST", "/invoices/4242/archive", {"reason": "lost"}).status_code == 404


def test_the_body_must_be_json(api, invoice):
    response = api("POST", f"/invoices/{invoice.id}/mark-paid", data="reason=cash")
    assert response.status_code == 400 and "JSON" in response.json["message"]


def test_a_key_is_required(client, invoice):
    response = client.post(f"/api/v1/invoices/{invoice.id}/archive", json={"reason": "lost"})
    assert response.status_code == 401
    assert reload(invoice).state == InvoiceState.BOOKED


def test_archive(api, invoice):
    response = api("POST", f"/invoices/{invoice.id}/archive", {"reason": "Customer bankrupt"})

    assert response.status_code == 200
    data = response.json["data"]
    assert data["state"] == "ARCHIVED" and data["teamleader_sync"] is None
    assert any(e["message"] == "Archived: Customer bankrupt" for e in data["events"])

    again = api("POST", f"/invoices/{invoice.id}/archive", {"reason": "again"})
    assert again.status_code == 409 and "archived already" in again.json["message"]


def test_archive_needs_a_reason(api, invoice):
    response = api("POST", f"/invoices/{invoice.id}/archive", {"reason": ""})
    assert response.status_code == 422 and "reason" in response.json["errors"]
    assert reload(invoice).state == InvoiceState.BOOKED


def test_the_list_filters_teamleader_problems(api, invoice):
    refused = make_invoice()
    db.session.add(
        TeamleaderSync(
            invoice=refused,
            wanted=1,
            done=1,
            held=Decimal("0.00"),
            status=SyncStatus.FAILED,
            last_error="Teamleader: payment_method_id is invalid",
        )
    )
    db.session.commit()

    response = api("GET", "/invoices", query_string={"teamleader": "problems"})

    assert [item["id"] for item in response.json["items"]] == [refused.id]
    detail = api("GET", f"/invoices/{refused.id}").json["data"]
    assert detail["teamleader_sync"] == {
        "status": "failed",
        "last_error": "Teamleader: payment_method_id is invalid",
        "synced_at": None,
    }
