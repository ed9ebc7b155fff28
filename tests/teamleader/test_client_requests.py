"""What the client sends for each method, and the records it returns (recorded payloads)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from responses import matchers

from collector.teamleader import MalformedResponse, NotFound
from tests.support.payloads import teamleader_payload as payload

from .support import TOKEN, url

HEADERS = {"Authorization": f"Bearer {TOKEN}", "X-Api-Version": "2023-09-26"}
PAGE_1 = {"page": {"size": 100, "number": 1}}
SORT = {"sort": [{"field": "invoice_date", "order": "asc"}]}
INVOICE_LIST = payload("invoices.list.response.json")


def expect(rsps, endpoint, body, response=None, *, status=200):
    """Register one call that must carry exactly ``body`` and the auth/version headers."""
    rsps.post(
        url(endpoint),
        json=response,
        status=status,
        match=[matchers.json_params_matcher(body), matchers.header_matcher(HEADERS)],
    )


def test_every_call_is_a_post_with_json_headers_and_a_timeout(rsps, tl_client):
    expect(rsps, "users.me", {}, payload("users.me.response.json"))

    tl_client.users_me()

    request = rsps.calls[0].request
    assert request.method == "POST"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == "collector/0.1"
    assert request.req_kwargs["timeout"] == (5, 30)


def test_users_me_returns_the_account_id(rsps, tl_client):
    expect(rsps, "users.me", {}, payload("users.me.response.json"))

    me = tl_client.users_me()

    assert me["account_id"] == "0fc55513-7f68-4865-aba0-de5da9e4e43d"
    assert me["email"] == "john@teamleader.eu"
    assert tl_client.calls["users.me"] == 1


def test_departments_list_is_one_call_even_with_many_rows(rsps, tl_client):
    row = payload("departments.list.response.json")["data"][0]
    rows = [{**row, "id": f"dep-{n}"} for n in range(150)]
    expect(rsps, "departments.list", {"filter": {"status": ["active"]}}, {"data": rows})

    departments = tl_client.departments_list(status=["active"])

    assert len(departments) == 150
    assert len(rsps.calls) == 1  # no page parameter exists: never loop it


def test_departments_info(rsps, tl_client):
    body = {"id": "67c576e7-7e6f-465d-b6ab-a864f6e5e95b"}
    expect(rsps, "departments.info", body, payload("departments.info.response.json"))

    department = tl_client.departments_info("67c576e7-7e6f-465d-b6ab-a864f6e5e95b")

    assert department["iban"] == "BE12123412341234"
    assert department["address"]["city"] == "Ghent"


def test_custom_field_definitions_list_pages_through(rsps, tl_client):
    row = payload("customFieldDefinitions.list.response.json")["data"][0]
    first = [{**row, "id": f"cf-{n}"} for n in range(100)]
    # A definition from before API version 2023-09-26: options were plain strings.
    old = {**row, "id": "cf-old", "configuration": {"options": ["Gold", "Silver"]}}
    body = {"filter": {"context": "invoice"}}
    expect(rsps, "customFieldDefinitions.list", {**body, **PAGE_1}, {"data": first})
    page_2 = {"page": {"size": 100, "number": 2}}
    expect(rsps, "customFieldDefinitions.list", {**body, **page_2}, {"data": [old]})

    definitions = list(tl_client.custom_field_definitions_list(context="invoice"))

    assert len(definitions) == 101
    assert definitions[0]["options"] == [
        {"id": "179e1564-493b-4305-8c54-a34fc80920fc", "value": "foo"}
    ]
    assert definitions[-1]["options"] == [
        {"id": None, "value": "Gold"},
        {"id": None, "value": "Silver"},
    ]
    assert tl_client.calls["customFieldDefinitions.list"] == 2


def test_custom_field_definitions_info_without_configuration(rsps, tl_client):
    data = {**payload("customFieldDefinitions.info.response.json")["data"], "configuration": None}
    expect(rsps, "customFieldDefinitions.info", {"id": "cf-1"}, {"data": data})

    definition = tl_client.custom_field_definitions_info("cf-1")

    assert definition["options"] == []
    assert definition["extra_option_allowed"] is None


def test_invoices_list_sends_every_filter_and_sorts_by_date(rsps, tl_client):
    body = {
        "filter": {
            "ids": ["inv-1", "inv-2"],
            "status": ["outstanding", "matched"],
            "department_id": "dep-1",
            "updated_since": "2016-02-04T15:44:33+00:00",
            "invoice_date_after": "2020-01-01",
            "invoice_date_before": "2022-01-01",
            "customer": {"type": "company", "id": "comp-1"},
            "subscription_id": "sub-1",
        },
        "sort": [{"field": "invoice_date", "order": "asc"}],
        **PAGE_1,
    }
    expect(rsps, "invoices.list", body, payload("invoices.list.response.json"))

    invoices = list(
        tl_client.invoices_list(
            ids=["inv-1", "inv-2", "inv-1"],
            status=["outstanding", "matched"],
            department_id="dep-1",
            updated_since=datetime(2016, 2, 4, 16, 44, 33, tzinfo=timezone(timedelta(hours=1))),
            invoice_date_after=date(2020, 1, 1),
            invoice_date_before=date(2022, 1, 1),
            customer=("company", "comp-1"),
            subscription_id="sub-1",
        )
    )

    assert len(invoices) == 1


def test_invoice_list_record(rsps, tl_client):
    expect(rsps, "invoices.list", {"filter": {}, **SORT, **PAGE_1}, INVOICE_LIST)

    [invoice] = tl_client.invoices_list()

    assert invoice["id"] == "2aa4a6a9-9ce8-4851-a9b3-26aea2ea14c4"
    assert invoice["department_id"] == "5e90eb0a-b502-4344-aa0f-3b8525af6186"
    assert invoice["invoice_number"] == "2017 / 5"
    assert invoice["invoice_date"] == date(2016, 2, 4)
    assert invoice["due_on"] == date(2016, 3, 3)
    assert invoice["status"] == "matched"
    assert invoice["paid"] is True
    assert invoice["paid_at"] == datetime(2016, 2, 4, 16, 44, 33, tzinfo=UTC)
    assert invoice["customer_type"] == "contact"
    assert invoice["customer_id"] == "4b0f959a-27e3-4080-b1b2-a05b374863cb"
    assert invoice["invoicee"] == {
        "name": "De Rode Duivels",
        "vat_number": "BE0899623035",
        "email": None,
        "national_identification_number": None,
    }
    assert invoice["total"] == {
        "currency": "EUR",
        "tax_exclusive": Decimal("123.3"),
        "tax_inclusive": Decimal("123.3"),
        "payable": Decimal("123.3"),
        "due": Decimal("123.3"),
        "taxes": [{"rate": Decimal("0.21"), "taxable": Decimal("123.3"), "tax": Decimal("123.3")}],
    }
    assert invoice["currency"] == "EUR"  # list items only carry it inside the Money objects
    assert invoice["subscription_id"] == "8631bbbf-bead-4f6e-a2ab-58ec9bbd997a"
    assert invoice["payments"] == [] and invoice["custom_fields"] == []
    assert invoice["payment_term"] is None


def invoice_rows(count: int, start: int = 0) -> dict:
    row = INVOICE_LIST["data"][0]
    return {"data": [{**row, "id": f"inv-{n}"} for n in range(start, start + count)]}


def test_invoices_list_stops_on_a_short_page(rsps, tl_client):
    base = {"filter": {"status": ["outstanding"]}, **SORT}
    expect(rsps, "invoices.list", {**base, **PAGE_1}, invoice_rows(100))
    page_2 = {"page": {"size": 100, "number": 2}}
    expect(rsps, "invoices.list", {**base, **page_2}, invoice_rows(7, 100))

    invoices = list(tl_client.invoices_list(status="outstanding"))

    assert [i["id"] for i in invoices] == [f"inv-{n}" for n in range(107)]
    assert tl_client.calls["invoices.list"] == 2


def test_invoices_list_full_last_page_costs_one_empty_page(rsps, tl_client):
    expect(rsps, "invoices.list", {"filter": {}, **SORT, **PAGE_1}, invoice_rows(100))
    page_2 = {"page": {"size": 100, "number": 2}}
    expect(rsps, "invoices.list", {"filter": {}, **SORT, **page_2}, {"data": []})

    assert len(list(tl_client.invoices_list())) == 100


def test_a_list_that_ignores_paging_is_not_looped_forever(rsps, tl_client):
    rsps.post(url("invoices.list"), json=invoice_rows(100))

    with pytest.raises(MalformedResponse, match="page 2 repeats page 1"):
        list(tl_client.invoices_list())


def test_invoices_list_is_lazy(rsps, tl_client):
    iterator = tl_client.invoices_list()

    assert tl_client.calls.total() == 0
    del iterator


@pytest.mark.parametrize(
    ("filters", "error"),
    [
        ({"status": ["paid"]}, ValueError),  # there is no paid status (§6.1)
        ({"status": ["booked"]}, ValueError),
        ({"updated_since": datetime(2024, 1, 1)}, ValueError),  # noqa: DTZ001 (naive on purpose)
        ({"invoice_date_after": datetime(2024, 1, 1, tzinfo=UTC)}, ValueError),
        ({"customer": ("person", "x")}, ValueError),
        ({"ids": "inv-1"}, ValueError),
        ({"department_id": ""}, ValueError),
        ({"include": "late_fees"}, TypeError),  # misspelled keys are refused, not ignored
    ],
)
def test_invoices_list_refuses_what_teamleader_would_ignore(rsps, tl_client, filters, error):
    with pytest.raises(error):
        list(tl_client.invoices_list(**filters))
    assert tl_client.calls.total() == 0


def test_invoices_by_ids_batches_per_hundred(rsps, tl_client):
    ids = [f"inv-{n}" for n in range(250)]
    for start, size in ((0, 100), (100, 100), (200, 50)):
        body = {"filter": {"ids": ids[start : start + size]}, "page": {"size": size, "number": 1}}
        expect(rsps, "invoices.list", body, invoice_rows(size, start))

    found = tl_client.invoices_by_ids(ids)

    assert sorted(found) == sorted(ids)
    assert tl_client.calls["invoices.list"] == 3


def test_invoices_by_ids_leaves_out_unknown_ids(rsps, tl_client):
    body = {"filter": {"ids": ["inv-0", "gone"]}, "page": {"size": 2, "number": 1}}
    expect(rsps, "invoices.list", body, invoice_rows(1))

    assert list(tl_client.invoices_by_ids(["inv-0", "gone"])) == ["inv-0"]


def test_invoices_by_ids_without_ids_calls_nothing(rsps, tl_client):
    assert tl_client.invoices_by_ids([]) == {}


def test_invoices_info_record(rsps, tl_client):
    expect(rsps, "invoices.info", {"id": "inv-1"}, payload("invoices.info.response.json"))

    invoice = tl_client.invoices_info("inv-1")

    assert invoice["payments"] == [
        {
            "paid_at": datetime(2016, 3, 3, 16, 44, 33, tzinfo=UTC),
            "amount": Decimal("123.3"),
            "currency": "BAM",
        }
    ]
    assert invoice["payment_term"] == {"type": "cash", "days": 0}
    assert invoice["custom_fields"] == [
        {"definition_id": "bf6765de-56eb-40ec-ad14-9096c5dc5fe1", "value": "092980616"}
    ]
    assert invoice["currency"] == "USD"
    assert invoice["invoicee"]["email"] == "duivels@test.com"
    assert invoice["expected_payment_method"] == {
        "method": "sepa_direct_debit",
        "reference": "AB1234",
    }
    assert invoice["on_hold_since"] == date(2016, 2, 1)
    [line] = invoice["grouped_lines"][0]["line_items"]
    assert line["quantity"] == Decimal("3")
    assert line["unit_price"] == Decimal("123.3")
    assert line["unit_price_tax"] == "excluding"
    assert line["total"]["tax_inclusive"] == Decimal("123.3")
    assert invoice["currency_exchange_rate"]["rate"] == Decimal("1.1234")


def test_invoices_download(rsps, tl_client):
    body = payload("invoices.download.request.json")
    expect(rsps, "invoices.download", body, payload("invoices.download.response.json"))

    download = tl_client.invoices_download(body["id"])

    assert download == {
        "location": "https://cdn.teamleader.eu/file",
        "expires": datetime(2018, 2, 5, 16, 44, 33, tzinfo=UTC),
    }


def test_invoices_download_refuses_unknown_formats(tl_client):
    with pytest.raises(ValueError, match="format: 'docx' not in"):
        tl_client.invoices_download("inv-1", format="docx")


def test_register_payment_body(rsps, tl_client):
    body = {
        "id": "7abb325c-e063-42a4-8fb4-1b730759645a",
        "payment": {"amount": 123.3, "currency": "EUR"},
        "paid_at": "2016-03-03T16:44:33+00:00",
        "payment_method_id": "bb9589ec-6e08-0d5f-9b23-7be9b9c3ea2d",
    }
    assert body == payload("invoices.registerPayment.request.json")
    expect(rsps, "invoices.registerPayment", body, status=204)

    result = tl_client.invoices_register_payment(
        "7abb325c-e063-42a4-8fb4-1b730759645a",
        Decimal("123.30"),
        "EUR",
        datetime(2016, 3, 3, 17, 44, 33, tzinfo=timezone(timedelta(hours=1))),
        payment_method_id="bb9589ec-6e08-0d5f-9b23-7be9b9c3ea2d",
    )

    assert result is None
    assert rsps.calls[0].request.body == (
        b'{"id": "7abb325c-e063-42a4-8fb4-1b730759645a", "payment": {"amount": 123.3, '
        b'"currency": "EUR"}, "paid_at": "2016-03-03T16:44:33+00:00", '
        b'"payment_method_id": "bb9589ec-6e08-0d5f-9b23-7be9b9c3ea2d"}'
    )


@pytest.mark.parametrize(
    ("amount", "currency", "paid_at", "reason"),
    [
        (123.3, "EUR", datetime(2024, 1, 1, tzinfo=UTC), "positive, finite Decimal"),  # a float
        (Decimal("-5"), "EUR", datetime(2024, 1, 1, tzinfo=UTC), "positive, finite Decimal"),
        (
            Decimal("1234567890123.4567"),
            "EUR",
            datetime(2024, 1, 1, tzinfo=UTC),
            "too many digits to send exactly",
        ),
        (Decimal("10.00"), "eur", datetime(2024, 1, 1, tzinfo=UTC), "ISO 4217"),
        (
            Decimal("10.00"),
            "EUR",
            datetime(2024, 1, 1),  # noqa: DTZ001 (naive on purpose)
            "paid_at must be a timezone-aware datetime",
        ),
    ],
)
def test_register_payment_refuses_bad_values(tl_client, amount, currency, paid_at, reason):
    with pytest.raises(ValueError, match=reason):
        tl_client.invoices_register_payment("inv-1", amount, currency, paid_at)
    assert tl_client.calls.total() == 0


def test_remove_payments(rsps, tl_client):
    body = payload("invoices.removePayments.request.json")
    expect(rsps, "invoices.removePayments", body, status=204)

    assert tl_client.invoices_remove_payments(body["id"]) is None


def test_credit_notes_list_filters_and_record(rsps, tl_client):
    body = {
        "filter": {
            "department_id": "dep-1",
            "invoice_id": "inv-1",
            "credit_note_date_after": "2024-01-01",
            "credit_note_date_before": "2024-02-01",
        },
        **PAGE_1,
    }
    expect(rsps, "creditNotes.list", body, payload("creditNotes.list.response.json"))

    [note] = tl_client.credit_notes_list(
        department_id="dep-1",
        invoice_id="inv-1",
        credit_note_date_after=date(2024, 1, 1),
        credit_note_date_before=date(2024, 2, 1),
    )

    assert note["credit_note_number"] == "2017/5"
    assert note["credit_note_date"] == date(2016, 2, 4)
    assert note["invoice_id"] == "53484141-8382-4948-9a4c-9cd7e79b30bd"
    assert note["customer_type"] == "contact"
    assert note["total"]["payable"] == Decimal("123.3")
    assert "due" not in note["total"]
    assert note["currency"] == "EUR"


@pytest.mark.parametrize("as_array", [True, False])
def test_credit_notes_info_accepts_an_array_or_an_object(rsps, tl_client, as_array):
    documented = payload("creditNotes.info.response.json")  # data is an array in the docs
    data = documented["data"] if as_array else documented["data"][0]
    expect(rsps, "creditNotes.info", {"id": "cn-1"}, {"data": data})

    note = tl_client.credit_notes_info("cn-1")

    assert note["id"] == "27300f09-6250-4a23-8557-d84c52f99ecf"
    assert note["invoicee"]["email"] == "duivels@test.com"
    assert note["currency"] == "USD"
    assert note["grouped_lines"][0]["section_title"] == ""


def test_credit_notes_info_empty_array_is_not_found(rsps, tl_client):
    expect(rsps, "creditNotes.info", {"id": "cn-1"}, {"data": []})

    with pytest.raises(NotFound):
        tl_client.credit_notes_info("cn-1")


def test_credit_note_without_invoice(rsps, tl_client):
    data = {**payload("creditNotes.info.response.json")["data"][0], "invoice": None}
    expect(rsps, "creditNotes.info", {"id": "cn-1"}, {"data": data})

    assert tl_client.credit_notes_info("cn-1")["invoice_id"] is None


def test_credit_notes_download(rsps, tl_client):
    body = {"id": "cn-1", "format": "pdf"}
    expect(rsps, "creditNotes.download", body, payload("creditNotes.download.response.json"))

    assert tl_client.credit_notes_download("cn-1")["location"] == "https://cdn.teamleader.eu/file"


def test_contacts_list_body_and_record(rsps, tl_client):
    body = {
        "filter": {
            "updated_since": "2016-02-04T16:44:33+00:00",
            "email": {"type": "primary", "email": "info@piedpiper.eu"},
        },
        "sort": [{"field": "added_at", "order": "asc"}],
        "includes": "custom_fields",
        **PAGE_1,
    }
    expect(rsps, "contacts.list", body, payload("contacts.list.response.json"))

    [contact] = tl_client.parties_list(
        "contact",
        updated_since=datetime(2016, 2, 4, 16, 44, 33, tzinfo=UTC),
        email="info@piedpiper.eu",
        with_custom_fields=True,
    )

    assert contact["name"] == "Erlich Bachman"
    assert contact["emails"] == [{"type": "primary", "email": "info@piedpiper.eu"}]
    assert contact["primary_address"]["city"] == "Ghent"
    assert contact["iban"] == "BE12123412341234"
    assert contact["language"] == "en"
    assert contact["updated_at"] == datetime(2016, 2, 5, 16, 44, 33, tzinfo=UTC)


def test_contacts_by_ids(rsps, tl_client):
    body = {
        "filter": {"ids": ["c-1"]},
        "sort": [{"field": "added_at", "order": "asc"}],
        "page": {"size": 1, "number": 1},
    }
    expect(rsps, "contacts.list", body, payload("contacts.list.response.json"))

    found = tl_client.parties_by_ids("contact", ["c-1"])

    assert list(found) == ["2a39e420-3ba3-4384-8024-fa702ef99c9f"]


def test_contacts_info_record(rsps, tl_client):
    expect(rsps, "contacts.info", {"id": "c-1"}, payload("contacts.info.response.json"))

    contact = tl_client.parties_info("contact", "c-1")

    assert contact["addresses"] == [
        {
            "type": "invoicing",
            "line_1": "Dok Noord 3A 101",
            "postal_code": "9000",
            "city": "Ghent",
            "country": "BE",
            "addressee": "Teamleader HQ",
        }
    ]
    assert contact["primary_address"] is None  # only an invoicing address in this payload
    assert contact["vat_number"] == "BE0899623034"


def test_companies_list_and_by_ids(rsps, tl_client):
    sort = {"sort": [{"field": "added_at", "order": "asc"}]}
    body = {"filter": {"vat_number": "BE0899623035"}, **sort, **PAGE_1}
    expect(rsps, "companies.list", body, payload("companies.list.response.json"))
    by_ids = {"filter": {"ids": ["co-1", "co-2"]}, **sort, "page": {"size": 2, "number": 1}}
    expect(rsps, "companies.list", by_ids, payload("companies.list.response.json"))

    [company] = tl_client.parties_list("company", vat_number="BE0899623035")
    found = tl_client.parties_by_ids("company", ["co-1", "co-2"])

    assert company["name"] == "Pied Piper"
    assert company["preferred_currency"] == "EUR"
    assert list(found) == ["96a38bbf-24ed-4083-8a5c-20db92aa471e"]


def test_companies_info_fills_the_primary_address_from_addresses(rsps, tl_client):
    data = payload("companies.info.response.json")["data"]
    primary = {"type": "primary", "address": {"line_1": "Main 1", "city": "Gent"}}
    data = {**data, "addresses": [*data["addresses"], primary]}
    expect(rsps, "companies.info", {"id": "co-1"}, {"data": data})

    company = tl_client.parties_info("company", "co-1")

    assert company["primary_address"]["line_1"] == "Main 1"
    assert [e["type"] for e in company["emails"]] == ["primary"]


def test_parties_refuse_an_unknown_kind_or_a_filter_of_the_other_kind(rsps, tl_client):
    with pytest.raises(ValueError, match="kind"):
        tl_client.parties_info("person", "c-1")
    with pytest.raises(TypeError, match="vat_number"):
        tl_client.parties_list("contact", vat_number="BE0899623035")

    assert len(rsps.calls) == 0


def test_subscriptions_list_and_info(rsps, tl_client):
    body = {
        "filter": {"invoice_id": "inv-1"},
        "sort": [{"field": "created_at", "order": "asc"}],
        **PAGE_1,
    }
    expect(rsps, "subscriptions.list", body, payload("subscriptions.list.response.json"))
    info = payload("subscriptions.info.response.json")
    expect(rsps, "subscriptions.info", {"id": "sub-1"}, info)

    [listed] = tl_client.subscriptions_list(invoice_id="inv-1")
    subscription = tl_client.subscriptions_info("sub-1")

    assert listed["customer_id"] == "f29abf48-337d-44b4-aad4-585f5277a456"
    assert subscription["payment_term"] == {"type": "cash", "days": 0}
    assert subscription["invoice_generation"]["payment_method"] == "direct_debit"
    assert subscription["custom_fields"][0]["value"] == "092980616"
    assert "invoicee" not in subscription


def test_payment_methods_list(rsps, tl_client):
    expect(rsps, "paymentMethods.list", PAGE_1, payload("paymentMethods.list.response.json"))

    assert list(tl_client.payment_methods_list()) == [
        {"id": "49b403be-a32e-0901-9b1c-25214f9027c6", "name": "Coupons", "status": "active"}
    ]


def test_webhooks(rsps, tl_client):
    body = {"url": "https://collector.test/hooks/abc", "types": ["invoice.booked"]}
    expect(rsps, "webhooks.register", body, status=204)
    expect(rsps, "webhooks.list", {}, payload("webhooks.list.response.json"))
    expect(rsps, "webhooks.unregister", body, status=204)

    tl_client.webhooks_register(body["url"], ["invoice.booked"])
    hooks = tl_client.webhooks_list()
    tl_client.webhooks_unregister(body["url"], ["invoice.booked"])

    assert hooks == [{"url": "https://example.com", "types": ["account.deactivated"]}]
    assert sum(tl_client.calls.values()) == 3


def test_webhooks_register_refuses_unknown_types(tl_client):
    with pytest.raises(ValueError, match=r"types: \['invoice.paid'\] not in"):
        tl_client.webhooks_register("https://collector.test/h", ["invoice.paid"])  # no such event
