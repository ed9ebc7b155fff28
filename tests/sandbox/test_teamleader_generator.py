"""The seeded data generator and the control API's booking, reset and clock."""

from __future__ import annotations

import re
from dataclasses import fields
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from sandbox.teamleader.documents import ogm
from sandbox.teamleader.factory import Dataset
from sandbox.teamleader.generator import Sizes, generate
from sandbox.teamleader.structure import DEPARTMENT_IDS, INVOICE_PROFILE_FIELD_ID

NOW = datetime(2026, 3, 15, 10, 0, tzinfo=UTC)
COLLECTIONS = [f.name for f in fields(Dataset) if f.name != "rng"]


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return generate(7, NOW)


def _mod97(text: str) -> int:
    return int("".join(str(int(ch, 36)) for ch in text)) % 97


def test_same_seed_gives_the_same_data():
    first, second = generate(11, NOW), generate(11, NOW)
    for name in COLLECTIONS:
        assert getattr(first, name) == getattr(second, name), name


def test_another_seed_gives_other_customers_but_the_same_structure():
    first, other = generate(11, NOW), generate(12, NOW)
    assert set(first.invoices) != set(other.invoices)
    assert first.departments == other.departments
    assert first.custom_fields == other.custom_fields
    assert first.account == other.account


def test_sizes_are_configurable():
    data = generate(3, NOW, Sizes(contacts=5, companies=7, invoices=250, subscriptions=2))
    assert (len(data.contacts), len(data.companies), len(data.invoices)) == (5, 7, 250)
    assert len(data.subscriptions) == 2


def test_every_invoice_state_is_present(dataset):
    invoices = list(dataset.invoices.values())
    statuses = {i["status"] for i in invoices}
    assert statuses == {"draft", "outstanding", "matched"}
    assert any(i["status"] == "matched" and i["payments"] for i in invoices)  # fully paid
    assert any(i["status"] == "outstanding" and i["payments"] for i in invoices)  # partially
    assert any(i["total"]["payable"]["amount"] == 0 for i in invoices)  # zero amount
    assert any(i["status"] == "outstanding" and i["due_on"] < NOW.date() for i in invoices)
    drafts = [i for i in invoices if i["status"] == "draft"]
    assert all(d["invoice_number"] is None and d["payment_reference"] is None for d in drafts)


def test_credit_notes_full_and_partial(dataset):
    notes = list(dataset.credit_notes.values())
    credited = [dataset.invoices[n["invoice"]["id"]] for n in notes]
    full = [
        i
        for i, n in zip(credited, notes, strict=True)
        if n["total"]["payable"] == i["total"]["payable"]
    ]
    partial = [
        i
        for i, n in zip(credited, notes, strict=True)
        if n["total"]["payable"] != i["total"]["payable"]
    ]
    assert full and all(i["status"] == "matched" for i in full)
    assert partial and all(i["status"] == "outstanding" for i in partial)
    assert all(re.fullmatch(r"\d{4}/\d+", n["credit_note_number"]) for n in notes)


def test_numbers_rise_with_dates_per_department_and_repeat_across_departments(dataset):
    booked = [i for i in dataset.invoices.values() if i["invoice_number"]]
    per_department: dict[str, list] = {}
    for invoice in sorted(booked, key=lambda i: (i["invoice_date"], i["created_at"])):
        year, counter = invoice["invoice_number"].split(" / ")
        assert int(year) == invoice["invoice_date"].year
        per_department.setdefault(invoice["department"]["id"], []).append((int(year), int(counter)))
    assert set(per_department) == set(DEPARTMENT_IDS.values())
    for numbers in per_department.values():
        assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)


def test_payment_references_are_valid_structured_communications(dataset):
    for invoice in dataset.invoices.values():
        if invoice["payment_reference"] is None:
            continue
        digits = re.fullmatch(r"\+\+\+(\d{3})/(\d{4})/(\d{5})\+\+\+", invoice["payment_reference"])
        number = "".join(digits.groups())
        assert (int(number[:10]) % 97 or 97) == int(number[10:])


def test_structured_communication_matches_the_reference_example():
    assert ogm(842613660) == "+++084/2613/66074+++"  # reference §6.2 / invoices fixtures


def test_customers_look_belgian_or_dutch(dataset):
    customers = [*dataset.contacts.values(), *dataset.companies.values()]
    assert {c["language"] for c in customers} <= {"nl", "fr", "en"}
    assert {"nl", "fr"} <= {c["language"] for c in customers}
    for customer in customers:
        assert _mod97(customer["iban"][4:] + customer["iban"][:4]) == 1
    for company in dataset.companies.values():
        assert {e["type"] for e in company["emails"]} == {"primary", "invoicing"}
        vat = company["vat_number"]
        if vat.startswith("BE"):
            assert 97 - int(vat[2:10]) % 97 == int(vat[10:])
        else:
            assert re.fullmatch(r"NL\d{9}B01", vat)


def test_subscriptions_profiles_and_links(dataset):
    subscriptions = list(dataset.subscriptions.values())
    assert any(s["payment_term"]["days"] == 0 for s in subscriptions)
    assert any(s["custom_fields"][0]["value"] for s in subscriptions)
    generated = [i for i in dataset.invoices.values() if i["subscription"]]
    assert generated and {i["subscription"]["id"] for i in generated} <= set(dataset.subscriptions)
    profiled = [i for i in dataset.invoices.values() if i["custom_fields"][0]["value"]]
    assert profiled and len(profiled) < len(dataset.invoices)
    assert all(
        i["custom_fields"][0]["definition"]["id"] == INVOICE_PROFILE_FIELD_ID for i in profiled
    )
    assert {i["custom_fields"][0]["value"] for i in profiled} <= set(dataset.profile_options)


def test_totals_add_up(dataset):
    for invoice in dataset.invoices.values():
        total = invoice["total"]
        vat = sum((t["tax"]["amount"] for t in total["taxes"]), Decimal(0))
        assert total["tax_exclusive"]["amount"] + vat == total["payable"]["amount"]
        lines = [item for g in invoice["grouped_lines"] for item in g["line_items"]]
        line_sum = sum((item["total"]["tax_exclusive"]["amount"] for item in lines), Decimal(0))
        assert line_sum == total["tax_exclusive"]["amount"]


def test_profile_options_are_configurable():
    data = generate(1, NOW, profile_options=["SEPA", "Stripe"])
    definition = data.custom_fields[INVOICE_PROFILE_FIELD_ID]
    assert [o["value"] for o in definition["configuration"]["options"]] == ["SEPA", "Stripe"]


# Control API ------------------------------------------------------------------------


def test_reset_with_the_same_seed_restores_the_data(tl, data):
    before = data("invoices.list", {"page": {"size": 100}})
    tl.post("/_control/invoices", json={})
    assert tl.post("/_control/reset", json={"keep_auth": True}).status_code == 200
    assert data("invoices.list", {"page": {"size": 100}}) == before
    summary = tl.post("/_control/reset", json={"seed": 99, "invoice_count": 10, "keep_auth": True})
    assert sum(summary.get_json()["data"]["counts"]["invoices"].values()) == 10


def test_reset_drops_tokens_unless_kept(tl, api):
    tl.post("/_control/reset", json={})
    assert api("users.me").status_code == 401


def test_clock_can_be_read_set_and_advanced(tl):
    assert tl.get("/_control/clock").get_json()["data"]["now"].startswith("2026-03-15T10:00")
    moved = tl.post("/_control/clock", json={"advance_seconds": 3600}).get_json()["data"]["now"]
    assert moved.startswith("2026-03-15T11:00")
    fixed = tl.post("/_control/clock", json={"now": "2026-04-01T08:00:00Z"}).get_json()["data"]
    assert fixed["now"].startswith("2026-04-01T08:00")


def test_book_invoice_for_a_given_customer_and_department(tl, data, emulator):
    company_id = next(iter(emulator.store.data.companies))
    body = {
        "customer": {"type": "company", "id": company_id},
        "department_id": DEPARTMENT_IDS["NL"],
        "amount": 250.0,
        "invoice_date": "2026-03-10",
    }
    invoice = tl.post("/_control/invoices", json=body).get_json()["data"]
    assert invoice["invoicee"]["customer"] == {"type": "company", "id": company_id}
    assert invoice["department"]["id"] == DEPARTMENT_IDS["NL"]
    assert invoice["invoice_number"].startswith("2026 / ")
    assert invoice["total"]["payable"]["amount"] == 250.0
    assert data("invoices.info", {"id": invoice["id"]})["invoice_date"] == "2026-03-10"


def test_book_draft_then_book_it(tl):
    draft = tl.post("/_control/invoices", json={"draft": True}).get_json()["data"]
    assert draft["status"] == "draft" and draft["invoice_number"] is None
    booked = tl.post(f"/_control/invoices/{draft['id']}/book", json={"on": "2026-03-15"})
    assert booked.get_json()["data"]["status"] == "outstanding"
    assert tl.post(f"/_control/invoices/{draft['id']}/book", json={}).status_code == 400


def test_full_credit_note_settles_and_over_crediting_is_refused(tl, data):
    invoice = tl.post("/_control/invoices", json={"amount": 80}).get_json()["data"]
    too_much = tl.post("/_control/credit-notes", json={"invoice_id": invoice["id"], "amount": 81})
    assert too_much.status_code == 400
    note = tl.post("/_control/credit-notes", json={"invoice_id": invoice["id"]}).get_json()["data"]
    assert note["total"]["payable"]["amount"] == 80.0
    after = data("invoices.info", {"id": invoice["id"]})
    assert after["status"] == "matched" and after["total"]["due"]["amount"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"customer": {"type": "company", "id": "nope"}},
        {"customer": {"type": "deal", "id": "x"}},
        {"department_id": "nope"},
        {"profile": "Cheque"},
        {"amount": -5},
    ],
)
def test_book_invoice_validates(tl, body):
    response = tl.post("/_control/invoices", json=body)
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["title"]
