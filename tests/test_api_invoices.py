"""/api/v1/invoices and /api/v1/customers: filters, paging, exact item shapes, 400s."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from collector.accounts import users
from collector.documents.models import DocumentKind, InvoiceState
from tests.support.factories import make_customer, make_event, make_invoice, make_profile

INVOICE_KEYS = {
    "id",
    "kind",
    "number",
    "state",
    "amount",
    "amount_due",
    "currency",
    "invoice_date",
    "due_date",
    "customer_number",
    "profile_id",
    "pdf_available",
    "teamleader_id",
}
CUSTOMER_KEYS = {
    "id",
    "customer_number",
    "teamleader_id",
    "kind",
    "name",
    "email",
    "language",
    "address_line",
    "postal_code",
    "city",
    "country",
    "vat_number",
    "vat_compact",
    "vat_warning",
    "profile_id",
}


@pytest.fixture
def api(client, app):
    """GET under /api/v1 with a valid key."""
    _key, plain = users.create_api_key("erp")

    def get(path, **params):
        return client.get(
            f"/api/v1{path}", query_string=params, headers={"Authorization": f"Bearer {plain}"}
        )

    return get


@pytest.fixture
def docs(app):
    sepa = make_profile(name="SEPA")
    acme = make_customer(name="Acme", profile=sepa)
    a = make_invoice(
        number="2026/0101",
        customer=acme,
        profile=sepa,
        department_id="dep-be",
        invoice_date=date(2026, 10, 1),
        pdf_key="pdfs/a.pdf",
    )
    b = make_invoice(
        kind=DocumentKind.CREDIT_NOTE,
        number="CN2026/0007",
        department_id="dep-nl",
        invoice_date=date(2026, 11, 15),
        state=InvoiceState.ARCHIVED,
        credited_invoice=a,
    )
    c = make_invoice(
        number="2026/0202",
        teamleader_id="tl-special",
        customer=acme,
        invoice_date=date(2026, 12, 31),
        state=InvoiceState.PAID,
    )
    return {"a": a, "b": b, "c": c, "sepa": sepa, "acme": acme}


def ids(response) -> list[int]:
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


def test_list_item_has_exactly_the_documented_fields(api, docs):
    a = docs["a"]
    response = api("/invoices", q="2026/0101")
    assert response.json["total"] == 1
    [item] = response.json["items"]
    assert set(item) == INVOICE_KEYS
    assert item == {
        "id": a.id,
        "kind": "invoice",
        "number": "2026/0101",
        "state": "BOOKED",
        "amount": "121.00",
        "amount_due": "121.00",
        "currency": "EUR",
        "invoice_date": "2026-10-01",
        "due_date": "2026-10-31",
        "customer_number": docs["acme"].customer_number,
        "profile_id": docs["sepa"].id,
        "pdf_available": True,
        "teamleader_id": a.teamleader_id,
    }


def test_money_stays_exact(api, app):
    make_invoice(total_incl_vat=Decimal("-0.10"), amount_due=Decimal("1234567.89"))
    [item] = api("/invoices").json["items"]
    assert item["amount"] == "-0.10" and item["amount_due"] == "1234567.89"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, ["c", "b", "a"]),
        ({"kind": "credit_note"}, ["b"]),
        ({"state": "PAID"}, ["c"]),
        ({"profile_id": "sepa"}, ["a"]),
        ({"customer_id": "acme"}, ["c", "a"]),
        ({"department_id": "dep-be"}, ["a"]),
        ({"date_from": "2026-11-15", "date_to": "2026-12-30"}, ["b"]),
        ({"q": "CN2026"}, ["b"]),
        ({"q": "tl-special"}, ["c"]),
        ({"pdf": "false"}, ["c", "b"]),
        ({"pdf": "true", "state": "BOOKED"}, ["a"]),
    ],
)
def test_filters(api, docs, args, expected):
    args = {k: str(docs[v].id) if k.endswith("_id") and v in docs else v for k, v in args.items()}
    assert ids(api("/invoices", **args)) == [docs[name].id for name in expected]


def test_paging(api, docs):
    first = api("/invoices", per_page=2)
    assert first.json["page"] == 1 and first.json["per_page"] == 2 and first.json["total"] == 3
    assert ids(first) == [docs["c"].id, docs["b"].id]
    second = api("/invoices", per_page=2, page=2)
    assert ids(second) == [docs["a"].id] and second.json["total"] == 3
    assert api("/invoices", per_page=200).status_code == 200


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"state": "paid"}, "state"),
        ({"kind": "quote"}, "kind"),
        ({"profile_id": "one"}, "profile_id"),
        ({"date_from": "01/11/2026"}, "date_from"),
        ({"date_from": "2026-12-01", "date_to": "2026-11-01"}, "date_to"),
        ({"pdf": "maybe"}, "pdf"),
        ({"per_page": "201"}, "per_page"),
        ({"page": "0"}, "page"),
        ({"q": "x" * 65}, "q"),
    ],
)
def test_bad_arguments_are_400_with_field_errors(api, docs, args, field):
    response = api("/invoices", **args)
    assert response.status_code == 400
    assert list(response.json["errors"]) == [field]
    assert response.json["message"]


def test_one_document_with_its_events_newest_first(api, docs):
    a = docs["a"]
    make_event(a, kind="imported", occurred_at=datetime(2026, 10, 2, 8, tzinfo=UTC))
    make_event(
        a,
        kind="state_changed",
        actor="job:collect",
        message="Collected",
        details={"to": "PENDING"},
        occurred_at=datetime(2026, 10, 5, 8, tzinfo=UTC),
    )
    response = api(f"/invoices/{a.id}")
    assert response.status_code == 200
    data = response.json["data"]
    assert set(data) == INVOICE_KEYS | {"events", "credited_invoice_id", "teamleader_sync"}
    assert data["credited_invoice_id"] is None
    assert data["teamleader_sync"] is None  # no payment yet: Teamleader is owed nothing
    assert data["events"] == [
        {
            "kind": "state_changed",
            "occurred_at": "2026-10-05T08:00:00+00:00",
            "actor": "job:collect",
            "message": "Collected",
            "details": {"to": "PENDING"},
        },
        {
            "kind": "imported",
            "occurred_at": "2026-10-02T08:00:00+00:00",
            "actor": "system",
            "message": "Imported from Teamleader.",
            "details": {},
        },
    ]


def test_credit_note_names_the_invoice_it_credits(api, docs):
    data = api(f"/invoices/{docs['b'].id}").json["data"]
    assert data["kind"] == "credit_note"
    assert data["credited_invoice_id"] == docs["a"].id
    assert data["events"] == []


def test_unknown_document_is_404_json(api, app):
    response = api("/invoices/4242")
    assert response.status_code == 404 and response.json["message"]


def test_a_key_is_required(client, docs):
    for path in ("/api/v1/invoices", f"/api/v1/invoices/{docs['a'].id}", "/api/v1/customers"):
        assert client.get(path).status_code == 401


def test_customer_item_has_exactly_the_documented_fields(api, docs):
    acme = docs["acme"]
    response = api("/customers", q="acme")
    assert response.json["total"] == 1 and response.json["page"] == 1
    [item] = response.json["items"]
    assert item == {
        "id": acme.id,
        "customer_number": acme.customer_number,
        "teamleader_id": acme.teamleader_id,
        "kind": "company",
        "name": "Acme",
        "email": acme.email,
        "language": "nl",
        "address_line": None,
        "postal_code": None,
        "city": None,
        "country": "BE",
        "vat_number": None,
        "vat_compact": None,
        "vat_warning": None,
        "profile_id": docs["sepa"].id,
    }
    assert set(item) == CUSTOMER_KEYS


def test_customer_item_has_the_compact_vat_number_or_why_it_is_not_valid(api, docs):
    make_customer(name="Valid", vat_number="be 0477.472.701")
    make_customer(name="Typo", vat_number="BE 0477.472.702")

    items = {i["name"]: i for i in api("/customers", q="", per_page=50).json["items"]}

    assert items["Valid"]["vat_compact"] == "BE0477472701"
    assert items["Valid"]["vat_warning"] is None
    assert items["Typo"]["vat_number"] == "BE 0477.472.702"
    assert items["Typo"]["vat_compact"] is None
    assert "check digits" in items["Typo"]["vat_warning"]


def test_customers_filter_and_page(api, docs):
    other = make_customer(name="Zeta")
    everyone = api("/customers", per_page=1)
    assert everyone.json["total"] == 3 and len(everyone.json["items"]) == 1
    assert ids(api("/customers", profile_id=docs["sepa"].id)) == [docs["acme"].id]
    assert ids(api("/customers", q="zet")) == [other.id]


@pytest.mark.parametrize("args", [{"name": "x"}, {"profile_id": "x"}, {"per_page": "500"}])
def test_customers_bad_arguments_are_400(api, app, args):
    response = api("/customers", **args)
    assert response.status_code == 400
    assert list(response.json["errors"]) == list(args)
