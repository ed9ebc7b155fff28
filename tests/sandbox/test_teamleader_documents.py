"""Downloads and payments: invoices.download, registerPayment, removePayments (§6.4, §6.5)."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

import pytest


def _booked(data, status: str, paid: bool | None = None) -> dict:
    for row in data("invoices.list", {"filter": {"status": [status]}, "page": {"size": 100}}):
        info = data("invoices.info", {"id": row["id"]})
        if info["total"]["payable"]["amount"] > 0 and (
            paid is None or bool(info["payments"]) == paid
        ):
            return info
    raise AssertionError(f"no {status} invoice")


def _check_pdf(body: bytes) -> None:
    """The xref table points exactly at each ``n 0 obj`` and startxref at ``xref``."""
    assert body.startswith(b"%PDF-1.")
    assert body.rstrip().endswith(b"%%EOF")
    startxref = int(re.search(rb"startxref\n(\d+)\n", body).group(1))
    assert body[startxref:].startswith(b"xref\n")
    entries = re.findall(rb"(\d{10}) (\d{5}) n \n", body[startxref:])
    assert entries
    for number, (offset, _generation) in enumerate(entries, start=1):
        assert body[int(offset) :].startswith(b"%d 0 obj" % number)


def test_download_location_serves_a_valid_pdf_then_expires(tl, data, emulator):
    invoice = _booked(data, "outstanding")
    link = data("invoices.download", {"id": invoice["id"], "format": "pdf"})
    expires = datetime.fromisoformat(link["expires"])
    assert (expires - emulator.clock.now()).total_seconds() == pytest.approx(60, abs=2)

    path = urlsplit(link["location"]).path
    response = tl.get(path)  # no Authorization header needed
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    _check_pdf(response.data)
    assert invoice["invoice_number"].encode() in response.data
    assert f"{invoice['total']['payable']['amount']:.2f}".encode() in response.data

    emulator.clock.advance(61)
    assert tl.get(path).status_code == 403
    assert tl.get("/_files/unknown-token").status_code == 404


def test_credit_note_download_and_ubl_format(tl, data):
    note = data("creditNotes.list")[0]
    link = data("creditNotes.download", {"id": note["id"], "format": "ubl/e-fff"})
    response = tl.get(urlsplit(link["location"]).path)
    assert response.mimetype == "application/xml"
    assert note["credit_note_number"].encode() in response.data
    pdf = data("creditNotes.download", {"id": note["id"], "format": "pdf"})
    _check_pdf(tl.get(urlsplit(pdf["location"]).path).data)


def test_download_refuses_unknown_format(api, data):
    invoice = data("invoices.list")[0]
    response = api("invoices.download", {"id": invoice["id"], "format": "docx"})
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["meta"]["field"] == "format"


def _pay(api, invoice: dict, amount: float, **extra):
    body = {
        "id": invoice["id"],
        "payment": {"amount": amount, "currency": "EUR"},
        "paid_at": "2026-03-14T09:30:00+00:00",
        **extra,
    }
    return api("invoices.registerPayment", body)


def test_partial_then_full_payment_settles_the_invoice(api, data):
    invoice = _booked(data, "outstanding", paid=False)
    payable = invoice["total"]["payable"]["amount"]
    part = round(payable / 2, 2)

    response = _pay(api, invoice, part)
    assert response.status_code == 204 and response.data == b""
    after = data("invoices.info", {"id": invoice["id"]})
    assert after["status"] == "outstanding" and after["paid"] is False
    assert after["total"]["due"]["amount"] == pytest.approx(payable - part)
    assert after["updated_at"] > invoice["updated_at"]

    method = data("paymentMethods.list")[0]["id"]
    rest = round(payable - part, 2)
    assert _pay(api, invoice, rest, payment_method_id=method).status_code == 204
    settled = data("invoices.info", {"id": invoice["id"]})
    assert settled["status"] == "matched" and settled["paid"] is True
    assert settled["paid_at"] == "2026-03-14T09:30:00+00:00"
    assert settled["total"]["due"]["amount"] == 0
    assert [p["payment"]["amount"] for p in settled["payments"]] == [part, rest]


def test_remove_payments_removes_all_of_them(api, data):
    invoice = _booked(data, "matched", paid=True)
    response = api("invoices.removePayments", {"id": invoice["id"]})
    assert response.status_code == 204
    after = data("invoices.info", {"id": invoice["id"]})
    assert after["payments"] == []
    assert after["status"] == "outstanding" and after["paid"] is False and after["paid_at"] is None
    assert after["total"]["due"]["amount"] == after["total"]["payable"]["amount"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"payment": {"amount": 10, "currency": "USD"}}, "payment.currency"),
        ({"payment": {"amount": "10", "currency": "EUR"}}, "payment.amount"),
        ({"paid_at": "yesterday"}, "paid_at"),
        ({"paid_at": None}, "paid_at"),
        ({"payment_method_id": "00000000-0000-4000-8000-000000000000"}, "payment_method_id"),
    ],
)
def test_register_payment_validates_its_body(api, data, change, field):
    invoice = _booked(data, "outstanding")
    body = {
        "id": invoice["id"],
        "payment": {"amount": 10, "currency": "EUR"},
        "paid_at": "2026-03-14T09:30:00+00:00",
        **change,
    }
    response = api("invoices.registerPayment", body)
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["meta"]["field"] == field


def test_draft_invoices_cannot_receive_payments(api, data):
    draft = data("invoices.list", {"filter": {"status": ["draft"]}})[0]
    assert draft["invoice_number"] is None and draft["invoice_date"] is None
    assert _pay(api, draft, 10).status_code == 400
