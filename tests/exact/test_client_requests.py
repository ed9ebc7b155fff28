"""What the client sends and what it returns, with the recorded payloads."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from responses import matchers

from collector.exact import MalformedResponse

from .support import HOST, TOKEN, payload, url

ACCOUNTS = url("crm/Accounts")
SALES_ENTRIES = url("salesentry/SalesEntries")
RECEIVABLES = url("cashflow/Receivables")
ACCOUNT_ID = "a58c29d9-ef92-40f1-b817-31b36990898c"
HEADERS = {
    "Accept": "application/json",
    "Authorization": f"Bearer {TOKEN}",
    "Prefer": "return=representation",
}


def query(request) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(request.url).query).items()}


def entry(number: int, ref: str) -> dict:
    entry_id = f"00000000-0000-4000-8000-{number:012d}"
    return {
        "__metadata": {"uri": f"{SALES_ENTRIES}(guid'{entry_id}')"},
        "EntryID": entry_id,
        "EntryNumber": number,
        "YourRef": ref,
        "Customer": ACCOUNT_ID,
        "AmountFC": Decimal("121.00"),
        "Journal": "70",
        "Type": 20,
        "EntryDate": "/Date(1782345600000)/",
    }


def listing(rows: list, next_url: str | None = None) -> str:
    d: dict = {"results": rows}
    if next_url:
        d["__next"] = next_url
    return json.dumps({"d": d}, default=float)


def test_every_call_sends_accept_json_prefer_and_the_bearer_token(rsps, ex_client):
    rsps.get(
        url("financial/Journals"),
        json=payload("journals-get-list-response.json"),
        match=[matchers.header_matcher(HEADERS)],
    )

    journals = ex_client.journals()

    assert journals[1] == {
        "ID": "31968238-9d23-41ef-a3fd-4c048ac8f6b0",
        "Code": "70",
        "Description": journals[1]["Description"],
        "Type": 20,
        "IsBlocked": False,
        "Currency": "EUR",
    }
    assert query(rsps.calls[0].request)["$select"] == "ID,Code,Description,Type,IsBlocked,Currency"
    assert ex_client.calls == {"financial/Journals": 1}


def test_me_has_no_division_in_the_path(rsps, ex_client):
    rsps.get(f"{HOST}/api/v1/current/Me", json=payload("current-me-get-response.json"))

    me = ex_client.me()

    assert me["CurrentDivision"] == 124132
    assert me["FullName"] == "Samuel Bodin"


def test_divisions_without_a_chosen_division_go_through_the_current_one(rsps, ex_client):
    ex_client.division = None
    rsps.get(f"{HOST}/api/v1/current/Me", json=payload("current-me-get-response.json"))
    rsps.get(
        f"{HOST}/api/v1/124132/system/Divisions",
        json={"d": {"results": [{"Code": 124132, "Description": "Nango", "Currency": "EUR"}]}},
    )

    divisions = ex_client.divisions()

    assert divisions[0]["Code"] == 124132 and divisions[0]["Description"] == "Nango"
    with pytest.raises(ValueError, match="the client has no division"):
        ex_client.journals()


def test_paging_follows_the_full_next_url(rsps, ex_client):
    next_url = f"{SALES_ENTRIES}?$skiptoken=guid'00000000-0000-4000-8000-000000000060'&$top=40"
    rsps.get(SALES_ENTRIES, body=listing([entry(1, "INV-1"), entry(2, "INV-2")], next_url))
    rsps.get(next_url, body=listing([entry(3, "INV-1")]))

    found = ex_client.sales_entries_by_ref("70", ["INV-1", "INV-2"])

    assert [row["EntryNumber"] for row in found] == [1, 2, 3]
    assert query(rsps.calls[1].request)["$skiptoken"].startswith("guid'")
    assert found[0]["AmountFC"] == Decimal("121.00")
    assert found[0]["EntryDate"] == datetime(2026, 6, 25, tzinfo=UTC)
    assert ex_client.calls == {"salesentry/SalesEntries": 2}


def test_a_page_repeating_the_previous_one_stops_the_loop(rsps, ex_client):
    rows = [entry(1, "INV-1")]
    rsps.get(SALES_ENTRIES, body=listing(rows, f"{SALES_ENTRIES}?$skiptoken=1"))
    rsps.get(f"{SALES_ENTRIES}?$skiptoken=1", body=listing(rows, f"{SALES_ENTRIES}?$skiptoken=2"))

    with pytest.raises(MalformedResponse, match="repeats"):
        ex_client.sales_entries_by_ref("70", ["INV-1"])


def test_next_never_leads_the_token_to_another_host(rsps, ex_client):
    rsps.get(SALES_ENTRIES, body=listing([], "https://evil.test/api/v1/1/x?$skiptoken=1"))

    with pytest.raises(MalformedResponse, match="another host"):
        ex_client.sales_entries_by_ref("70", ["INV-1"])


def test_sales_entries_by_ref_batches_40_refs_and_escapes_quotes(rsps, ex_client):
    refs = [f"TL-{n}" for n in range(41)] + ["O'Brien", "TL-0", ""]
    rsps.get(SALES_ENTRIES, body=listing([entry(1, "TL-0")]))
    rsps.get(SALES_ENTRIES, body=listing([entry(2, "O'Brien")]))

    found = ex_client.sales_entries_by_ref("70", refs)

    first, second = (query(call.request)["$filter"] for call in rsps.calls)
    assert first.startswith("Journal eq '70' and (YourRef eq 'TL-0' or YourRef eq 'TL-1' or ")
    assert first.count(" or ") == 39
    assert second == "Journal eq '70' and (YourRef eq 'TL-40' or YourRef eq 'O''Brien')"
    assert [row["YourRef"] for row in found] == ["TL-0", "O'Brien"]
    assert "%20" in rsps.calls[0].request.url  # spaces as %20, not '+'


def test_find_accounts_pads_the_code_to_18_characters(rsps, ex_client):
    rsps.get(ACCOUNTS, json=payload("accounts-get-list-response-exact-sdk.json"))

    found = ex_client.find_accounts(code="8")

    assert query(rsps.calls[0].request)["$filter"] == "Code eq '                 8'"
    assert found[0]["Code"] == "                 8"
    assert found[0]["Created"] == datetime(2013, 10, 25, 2, 24, 32, 203000, tzinfo=UTC)


def test_find_accounts_by_email_and_vat(rsps, ex_client):
    rsps.get(ACCOUNTS, json={"d": {"results": []}})

    found = ex_client.find_accounts(
        email="o'neil@example.com", vat_numbers=["BE0477472701", "0477472701", "BE0477472701"]
    )

    assert found == []
    expected = (
        "Email eq 'o''neil@example.com'"
        " and (VATNumber eq 'BE0477472701' or VATNumber eq '0477472701')"
    )
    assert query(rsps.calls[0].request)["$filter"] == expected
    with pytest.raises(ValueError, match="find_accounts needs email, vat_numbers or code"):
        ex_client.find_accounts()


def test_account_by_id_and_unknown_account(rsps, ex_client):
    single = payload("accounts-post-response-without-prefer-header.json")
    rsps.get(f"{ACCOUNTS}(guid'{ACCOUNT_ID}')", json=single)
    rsps.get(f"{ACCOUNTS}(guid'{ACCOUNT_ID}')", status=404, body="")

    assert ex_client.account(ACCOUNT_ID)["ID"] == "40d4c49d-1790-4a13-b890-42909af24348"
    assert ex_client.account(ACCOUNT_ID) is None
    with pytest.raises(ValueError, match="badly formed hexadecimal UUID string"):
        ex_client.account("x') or true or ('")


def test_create_account_posts_the_fields(rsps, ex_client):
    fields = payload("accounts-post-request.json")
    rsps.post(
        ACCOUNTS,
        json=payload("accounts-post-response-without-prefer-header.json"),
        status=201,
        match=[matchers.json_params_matcher(fields), matchers.header_matcher(HEADERS)],
    )

    account = ex_client.create_account(fields)

    assert account["ID"] == "40d4c49d-1790-4a13-b890-42909af24348"
    assert account["Name"] is None  # what Exact returns without Prefer


def test_create_sales_entry_sends_decimal_amounts_as_numbers(rsps, ex_client):
    body = {
        "Journal": "70",
        "Customer": ACCOUNT_ID,
        "EntryDate": datetime(2024, 3, 15, tzinfo=UTC),
        "YourRef": "TL-2024-0012",
        "SalesEntryLines": [{"AmountFC": Decimal("1000.10"), "VATCode": "2  "}],
    }
    created_body = json.dumps({"d": entry(7, "TL-2024-0012")}, default=float)
    rsps.post(SALES_ENTRIES, body=created_body, status=201)

    created = ex_client.create_sales_entry(body)

    sent = rsps.calls[0].request.body.decode()
    assert '"AmountFC": 1000.1' in sent and '"EntryDate": "2024-03-15T00:00:00Z"' in sent
    assert created["EntryNumber"] == 7 and created["AmountFC"] == Decimal("121.00")


def test_non_ascii_text_goes_out_as_json_escapes(rsps, ex_client):
    fields = {"Name": "Café Zoë – Łódź", "Status": "C"}
    rsps.post(
        ACCOUNTS,
        json={"d": {"ID": ACCOUNT_ID, **fields}},
        status=201,
        match=[matchers.json_params_matcher(fields)],
    )

    assert ex_client.create_account(fields)["Name"] == "Café Zoë – Łódź"


def test_create_document_and_attach(rsps, ex_client):
    document = payload("documents-post-request.json")
    rsps.post(
        url("documents/Documents"),
        json=payload("documents-post-response.json"),
        status=201,
        match=[matchers.json_params_matcher(document)],
    )
    attachment = payload("documentattachments-post-request.json")
    rsps.post(
        url("documents/DocumentAttachments"),
        json=payload("documentattachments-post-response.json"),
        status=201,
        match=[matchers.json_params_matcher(attachment)],
    )

    created = ex_client.create_document(
        subject="Test attachment", type=10, account=document["Account"], date=date(2026, 6, 25)
    )
    attached = ex_client.attach(created["ID"], "test.txt", b"test")

    assert created["TypeDescription"] == "Sales invoice"
    assert created["DocumentDate"] == datetime(2026, 6, 25, tzinfo=UTC)
    assert attached["FileSize"] == 4 and attached["FileName"] == "test.txt"
    assert base64.b64decode(attachment["Attachment"]) == b"test"


def test_receivables_batches_40_entries_and_returns_every_term(rsps, ex_client):
    ids = [f"00000000-0000-4000-8000-{n:012d}" for n in range(45)]
    term = {
        "TransactionEntryID": ids[0],
        "IsFullyPaid": True,
        "Status": 50,
        "AmountDC": 121.5,
        "LastPaymentDate": "/Date(1638447360000)/",
    }
    next_url = f"{RECEIVABLES}?$skiptoken=2"
    rsps.get(RECEIVABLES, body=listing([term], next_url))
    rsps.get(next_url, body=listing([{**term, "Status": 20, "IsFullyPaid": False}]))
    rsps.get(RECEIVABLES, body=listing([{**term, "TransactionEntryID": ids[44]}]))

    found = ex_client.receivables(ids)

    assert [row["Status"] for row in found] == [50, 20, 50]
    assert found[0]["AmountDC"] == Decimal("121.5")
    assert found[0]["LastPaymentDate"] == datetime(2021, 12, 2, 12, 16, tzinfo=UTC)
    filters = [query(call.request).get("$filter") for call in rsps.calls]
    assert filters[0].count("TransactionEntryID eq guid'") == 40
    assert filters[2] == " or ".join(
        f"TransactionEntryID eq guid'{entry_id}'" for entry_id in ids[40:]
    ).join("()")


def test_generic_get_and_iterate_parse_dates(rsps, ex_client):
    glaccount = payload("glaccount-get-single-response-exact-sdk.json")
    rsps.get(
        url("financial/GLAccounts(guid'3c534e79-c4fe-44d2-9765-00b30573c2de')"), json=glaccount
    )
    rsps.get(url("financial/GLAccounts"), body=listing([glaccount["d"]]))

    single = ex_client.get("financial/GLAccounts(guid'3c534e79-c4fe-44d2-9765-00b30573c2de')")
    rows = list(ex_client.iterate("financial/GLAccounts", {"$select": "Code,Created"}))

    assert single["Created"] == datetime(2013, 10, 25, 2, 24, 29, 110000, tzinfo=UTC)
    assert rows[0]["Code"] == "4406"
    assert query(rsps.calls[1].request) == {"$select": "Code,Created"}
