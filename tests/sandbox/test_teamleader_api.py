"""The RPC API: auth, errors, pagination, filters, sorting, includes (reference §2–§11)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from .conftest import CLOCK_START


def every(data, method: str, body: dict | None = None) -> list[dict]:
    """Page through a list the way the reference says: until a page is short."""
    rows, number = [], 1
    while True:
        page = data(method, {**(body or {}), "page": {"size": 100, "number": number}})
        rows += page
        if len(page) < 100:
            return rows
        number += 1


# Auth and errors -------------------------------------------------------------------


def test_missing_token_is_401_with_errors_shape_and_rate_headers(tl):
    response = tl.post("/invoices.list", json={})
    assert response.status_code == 401
    assert response.get_json()["errors"][0]["title"]
    assert response.headers["X-RateLimit-Limit"] == "200"


def test_api_version_header_is_reported_and_echoed(tl, tokens):
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert tl.post("/users.me", headers=headers).headers["X-Api-Version"] == "2023-09-26"
    asked = tl.post("/users.me", headers={**headers, "X-Api-Version": "2024-01-01"})
    assert asked.headers["X-Api-Version"] == "2024-01-01"


def test_bad_token_is_401(api):
    response = api("users.me", token="not-a-token")
    assert response.status_code == 401
    assert "errors" in response.get_json()


def test_unknown_method_is_404(api):
    response = api("invoices.teleport")
    assert response.status_code == 404
    assert response.get_json()["errors"][0]["title"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "id"),
        ({"id": 42}, "id"),
        ({"id": "00000000-0000-4000-8000-000000000000"}, "id"),
    ],
)
def test_bad_info_body_is_400_with_field(api, body, field):
    response = api("invoices.info", body)
    error = response.get_json()["errors"][0]
    assert response.status_code == 400
    assert error["title"] and error["meta"]["field"] == field


def test_invalid_json_is_400(tl, tokens):
    response = tl.post(
        "/users.me",
        data="{not json",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        content_type="application/json",
    )
    assert response.status_code == 400


def test_actions_answer_204_with_empty_body(api, data):
    response = api(
        "webhooks.register", {"url": "https://hooks.example/tl", "types": ["invoice.booked"]}
    )
    assert response.status_code == 204
    assert response.data == b""


def test_get_still_works_for_list_and_info(tl, tokens, data):
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    listed = tl.get("/invoices.list?page[size]=3&filter[status][]=matched", headers=headers)
    assert listed.status_code == 200
    assert [i["status"] for i in listed.get_json()["data"]] == ["matched"] * 3
    ident = listed.get_json()["data"][0]["id"]
    assert tl.get(f"/invoices.info?id={ident}", headers=headers).status_code == 200
    assert tl.get("/invoices.registerPayment", headers=headers).status_code == 404


# Pagination ------------------------------------------------------------------------


def test_pages_default_to_20_and_do_not_overlap(data, emulator):
    total = len(emulator.store.data.invoices)
    assert len(data("invoices.list")) == 20
    rows = every(data, "invoices.list")
    assert len(rows) == total == len({r["id"] for r in rows})
    second = data("invoices.list", {"page": {"size": 7, "number": 2}})
    assert second == data("invoices.list", {"page": {"size": 14}})[7:]


@pytest.mark.parametrize("page", [{"size": 101}, {"size": 0}, {"number": 0}, {"size": "10"}])
def test_bad_page_is_400(api, page):
    response = api("contacts.list", {"page": page})
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["meta"]["field"].startswith("page")


def test_departments_list_ignores_paging(data):
    first = data("departments.list", {"page": {"size": 1, "number": 1}})
    again = data("departments.list", {"page": {"size": 1, "number": 2}})
    assert len(first) == 2
    assert first == again


# Invoice filters ------------------------------------------------------------------


def test_without_status_filter_drafts_are_listed_too(data):
    statuses = {i["status"] for i in every(data, "invoices.list")}
    assert statuses == {"draft", "outstanding", "matched"}
    booked = every(data, "invoices.list", {"filter": {"status": ["outstanding", "matched"]}})
    assert booked and all(i["status"] != "draft" for i in booked)
    assert all(i["invoice_number"] for i in booked)


@pytest.mark.parametrize("status", [["paid"], ["booked"], "outstanding"])
def test_status_filter_only_takes_an_array_of_real_statuses(api, status):
    response = api("invoices.list", {"filter": {"status": status}})
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["meta"]["field"] == "filter.status"


def test_invoice_date_bounds_are_both_inclusive(data):
    booked = every(data, "invoices.list", {"filter": {"status": ["outstanding", "matched"]}})
    day = sorted({i["invoice_date"] for i in booked})[3]
    both = data(
        "invoices.list", {"filter": {"invoice_date_after": day, "invoice_date_before": day}}
    )
    assert both and {i["invoice_date"] for i in both} == {day}
    assert len(both) == sum(1 for i in booked if i["invoice_date"] == day)


def test_credit_note_date_before_is_exclusive(data):
    notes = every(data, "creditNotes.list")
    day = notes[0]["credit_note_date"]
    before = data("creditNotes.list", {"filter": {"credit_note_date_before": day}})
    after = data("creditNotes.list", {"filter": {"credit_note_date_after": day}})
    assert all(n["credit_note_date"] < day for n in before)
    assert day in {n["credit_note_date"] for n in after}
    assert len(before) + len(after) == len(notes)


def test_department_ids_customer_and_updated_since_filters(data, emulator):
    departments = data("departments.list")
    nl = next(d for d in departments if d["vat_number"].startswith("NL"))
    rows = every(data, "invoices.list", {"filter": {"department_id": nl["id"]}})
    assert rows and all(r["department"]["id"] == nl["id"] for r in rows)

    picked = [r["id"] for r in rows[:3]]
    assert {r["id"] for r in data("invoices.list", {"filter": {"ids": picked}})} == set(picked)

    customer = rows[0]["invoicee"]["customer"]
    mine = data("invoices.list", {"filter": {"customer": customer}})
    assert mine and all(r["invoicee"]["customer"] == customer for r in mine)

    since = max(r["updated_at"] for r in rows)
    recent = data("invoices.list", {"filter": {"updated_since": since}})
    assert recent and all(r["updated_at"] >= since for r in recent)


def test_subscriptions_filter_by_generated_invoice(data):
    from_subscription = [r for r in every(data, "invoices.list") if r["subscription"]]
    invoice = from_subscription[0]
    found = data("subscriptions.list", {"filter": {"invoice_id": invoice["id"]}})
    assert [s["id"] for s in found] == [invoice["subscription"]["id"]]
    listed = data("invoices.list", {"filter": {"subscription_id": invoice["subscription"]["id"]}})
    assert invoice["id"] in {r["id"] for r in listed}


def test_contacts_by_email_and_companies_by_vat_number(data):
    contact = data("contacts.list")[0]
    email = contact["emails"][0]["email"]
    found = data(
        "contacts.list", {"filter": {"email": {"type": "primary", "email": email.upper()}}}
    )
    assert contact["id"] in [c["id"] for c in found]

    company = data("companies.list")[0]
    vat = company["vat_number"]
    spaced = f"{vat[:2]} {vat[2:6]}.{vat[6:9]}.{vat[9:]}"  # like the fixture "BE 0899.623.035"
    assert [c["id"] for c in data("companies.list", {"filter": {"vat_number": spaced}})] == [
        company["id"]
    ]


def test_unknown_filter_keys_are_ignored(data):
    assert len(data("invoices.list", {"filter": {"colour": "blue"}, "include": "x"})) == 20


# Sorting ---------------------------------------------------------------------------


def test_sort_by_invoice_number_is_numeric_and_respects_order(data, emulator):
    department = next(iter(emulator.store.data.departments))
    body = {"filter": {"department_id": department, "status": ["outstanding", "matched"]}}
    asc = every(
        data, "invoices.list", {**body, "sort": [{"field": "invoice_number", "order": "asc"}]}
    )
    counters = [(int(n[:4]), int(n.split(" / ")[1])) for n in (i["invoice_number"] for i in asc)]
    assert counters == sorted(counters)
    desc = every(
        data, "invoices.list", {**body, "sort": [{"field": "invoice_number", "order": "desc"}]}
    )
    assert [i["id"] for i in desc] == [i["id"] for i in reversed(asc)]


def test_unknown_sort_field_is_400(api):
    response = api("invoices.list", {"sort": [{"field": "amount"}]})
    assert response.status_code == 400


# Shapes and includes ---------------------------------------------------------------


def test_invoices_list_lacks_info_only_keys_but_has_subscription(data):
    item = data("invoices.list")[0]
    for key in ("custom_fields", "payments", "payment_term", "expected_payment_method", "currency"):
        assert key not in item
    assert "subscription" in item
    assert "email" not in item["invoicee"]
    info = data("invoices.info", {"id": item["id"]})
    assert {"custom_fields", "payments", "payment_term", "grouped_lines"} <= set(info)
    assert "subscription" not in info


def test_late_fees_only_when_included(data):
    plain = data("invoices.list", {"page": {"size": 1}})[0]["total"]
    with_fees = data("invoices.list", {"page": {"size": 1}, "includes": "late_fees"})[0]["total"]
    assert "due_incasso_inclusive" not in plain
    assert {"due_incasso_inclusive", "fixed_late_fee", "interest"} <= set(with_fees)


def test_custom_fields_on_lists_only_when_included(data):
    assert "custom_fields" not in data("companies.list")[0]
    included = data("companies.list", {"includes": "custom_fields"})
    assert all("custom_fields" in c for c in included)
    assert any(c["custom_fields"] for c in included)
    assert "custom_fields" in data("contacts.list", {"includes": "custom_fields,price_list"})[0]


def test_credit_notes_info_data_is_an_object(data):
    note = data("creditNotes.list")[0]
    info = data("creditNotes.info", {"id": note["id"]})
    assert isinstance(info, dict)
    assert info["invoice"]["type"] == "invoice"


def test_money_is_a_json_number_and_dates_are_iso(data):
    invoice = data("invoices.info", {"id": data("invoices.list")[0]["id"]})
    assert isinstance(invoice["total"]["payable"]["amount"], float | int)
    datetime.fromisoformat(invoice["created_at"])
    assert invoice["created_at"].endswith("+00:00")
    if invoice["invoice_date"]:
        date.fromisoformat(invoice["invoice_date"])


def test_invoices_span_the_last_90_days_of_the_emulator_clock(data):
    today = datetime.fromisoformat(CLOCK_START).date()
    booked = every(data, "invoices.list", {"filter": {"status": ["outstanding", "matched"]}})
    days = [(today - date.fromisoformat(i["invoice_date"])).days for i in booked]
    assert min(days) >= 0 and max(days) < 90
