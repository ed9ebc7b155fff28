"""REST envelope, paging, filters, Atom and crm/Accounts of the Exact emulator (§2, §4)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 - parsing our own emulator's output
from urllib.parse import parse_qs, urlsplit

import pytest
from stdnum.eu import vat as stdnum_vat
from werkzeug.test import Client

import sandbox

from .exact_support import DIVISION, OTHER_DIVISION, Caller, logged_in, seeded

DATE = re.compile(r"^/Date\(\d+\)/$")


@pytest.fixture
def exact() -> Caller:
    return logged_in()


def test_me_is_a_single_record_wrapped_in_results(exact):
    body = exact.get("current/Me", division=None).get_json()
    (me,) = body["d"]["results"]
    assert me["__metadata"]["type"] == "Exact.Web.Api.Models.System.Me"
    assert me["CurrentDivision"] == DIVISION
    assert me["AccountingDivision"] == DIVISION
    assert me["FullName"] == "Dana Demo"
    assert "__next" not in body["d"]


def test_divisions_lists_only_the_users_divisions(exact):
    rows = exact.results("system/Divisions", {"$select": "Code,Description,Country,Currency"})
    assert [(r["Code"], r["Country"], r["Currency"]) for r in rows] == [
        (DIVISION, "BE", "EUR"),
        (OTHER_DIVISION, "BE", "EUR"),
    ]
    assert set(rows[0]) == {"__metadata", "Code", "Description", "Country", "Currency"}


def test_other_division_is_forbidden(exact):
    response = exact.get("crm/Accounts", division=999)
    assert response.status_code == 403
    assert response.headers["Reason"] == "NoDivisionAccess"


def test_single_entity_has_metadata_deferred_links_and_json_dates(exact):
    ident = seeded("account", 1)
    response = exact.get(f"crm/Accounts(guid'{ident}')")
    record = response.get_json()["d"]
    assert record["__metadata"] == {
        "uri": f"http://localhost/be/api/v1/{DIVISION}/crm/Accounts(guid'{ident}')",
        "type": "Exact.Web.Api.Models.Account",
    }
    assert record["BankAccounts"] == {
        "__deferred": {"uri": record["__metadata"]["uri"] + "/BankAccounts"}
    }
    assert record["Code"] == " " * 17 + "1"
    assert DATE.match(record["Created"])
    assert exact.get("crm/Accounts(guid'00000000-0000-0000-0000-000000000001')").status_code == 404


def test_vat_codes_are_padded_and_percentages_are_fractions(exact):
    rows = exact.results("vat/VATCodes", {"$select": "Code,Percentage,Type,VATTransactionType"})
    codes = {r["Code"]: r for r in rows}
    assert all(len(code) == 3 for code in codes)
    assert codes["21 "]["Percentage"] == 0.21 and codes["21 "]["Type"] == "E"
    assert codes["6  "]["Percentage"] == 0.06
    assert codes["P21"]["VATTransactionType"] == "P"


def test_page_size_and_next_link():
    exact = logged_in(ACCOUNT_COUNT=130)
    first = exact.get("crm/Accounts", {"$select": "ID,Code"}).get_json()["d"]
    assert len(first["results"]) == 60
    next_url = first["__next"]
    assert next_url.startswith(f"http://localhost/be/api/v1/{DIVISION}/crm/Accounts?")
    assert "$select=ID%2CCode" in next_url or "$select=ID,Code" in next_url
    assert f"$skiptoken=guid'{first['results'][-1]['ID']}'" in next_url
    seen = [r["Code"] for r in first["results"]]
    while next_url:
        page = exact.client.get(next_url, headers=exact.headers()).get_json()["d"]
        seen += [r["Code"] for r in page["results"]]
        next_url = page.get("__next")
    assert len(seen) == len(set(seen)) == 130


def test_top_above_the_page_size_pages_with_the_rest_of_top():
    exact = logged_in(ACCOUNT_COUNT=130)
    first = exact.get("crm/Accounts", {"$top": "100", "$select": "Code"}).get_json()["d"]
    assert len(first["results"]) == 60
    query = parse_qs(urlsplit(first["__next"]).query)
    assert query["$top"] == ["40"]
    second = exact.client.get(first["__next"], headers=exact.headers()).get_json()["d"]
    assert len(second["results"]) == 40
    assert "__next" not in second
    small = exact.get("crm/Accounts", {"$top": "5"}).get_json()["d"]
    assert len(small["results"]) == 5 and "__next" not in small


def test_inlinecount_and_count(exact):
    body = exact.get("crm/Accounts", {"$inlinecount": "allpages", "$top": "1"}).get_json()
    assert body["d"]["__count"] == "8"
    count = exact.get("crm/Accounts/$count", {"$filter": "Status eq 'C'"})
    assert count.get_data(as_text=True) == "7"


@pytest.mark.parametrize(
    ("expression", "names"),
    [
        ("Code eq '                 2'", ["Atelier Noord"]),
        ("Code eq '2'", []),  # unpadded: silently nothing (pitfall 12)
        ("trim(Code) eq '2'", ["Atelier Noord"]),
        ("Email eq 'BILLING@studio-lumen.example'", ["Studio Lumen"]),
        ("substringof('vermeulen', Name) eq true", ["Bakkerij Vermeulen"]),
        ("Status ne 'C'", ["Fietsen Maes"]),
        (
            "(City eq 'Gent' or City eq 'Brugge') and Status eq 'C'",
            ["Brouwerij De Klok", "Bakkerij Vermeulen"],
        ),
        ("Name eq 'O''Neill'", []),
        ("startswith(Name, 'Garage')", ["Garage Peeters"]),
    ],
)
def test_filters_on_accounts(exact, expression, names):
    rows = exact.results("crm/Accounts", {"$filter": expression, "$select": "Name"})
    assert [r["Name"] for r in rows] == names


def test_filter_by_guid_vat_number_and_id(exact):
    ident = seeded("account", 3)
    (row,) = exact.results("crm/Accounts", {"$filter": f"ID eq guid'{ident}'"})
    by_vat = exact.results("crm/Accounts", {"$filter": f"VATNumber eq '{row['VATNumber']}'"})
    assert [r["ID"] for r in by_vat] == [ident]


def test_vat_number_is_matched_as_stored_text_ignoring_case_only(exact):
    # Account 4 holds its number as a person typed it in Exact: "BE 0xxx.xxx.xxx".
    (typed,) = exact.results("crm/Accounts", {"$filter": f"ID eq guid'{seeded('account', 4)}'"})
    stored = typed["VATNumber"]
    compact = stored.replace(" ", "").replace(".", "")
    assert stored != compact and stdnum_vat.is_valid(compact)

    def found(text):
        rows = exact.results("crm/Accounts", {"$filter": f"VATNumber eq '{text}'"})
        return [r["ID"] for r in rows]

    assert found(stored) == found(stored.lower()) == [typed["ID"]]
    assert found(compact) == []  # no normalising on Exact's side
    numbers = [r["VATNumber"] for r in exact.results("crm/Accounts", {"$select": "VATNumber"})]
    assert all(stdnum_vat.is_valid(n) or stdnum_vat.is_valid("BE" + n) for n in numbers)


def test_filter_errors_are_400(exact):
    for expression in ("Nope eq 1", "ID eq 'abc'"):  # a name or type Exact does not know: JSON
        response = exact.get("crm/Accounts", {"$filter": expression})
        assert response.status_code == 400, expression
        assert response.get_json()["error"]["message"]["value"]
    for expression in ("Code eq", "Name eq 'x' and"):  # no query at all: plain text
        response = exact.get("crm/Accounts", {"$filter": expression})
        assert response.status_code == 400, expression
        assert response.get_data(as_text=True) == "Bad Request - Error in query syntax."


def test_orderby_and_select(exact):
    rows = exact.results("financial/GLAccounts", {"$orderby": "Code desc", "$select": "Code"})
    assert [r["Code"] for r in rows][:2] == ["702000", "701000"]
    assert exact.get("financial/GLAccounts", {"$select": "Nope"}).status_code == 400


def test_payment_conditions_and_document_types(exact):
    conditions = exact.results("cashflow/PaymentConditions", {"$select": "Code,PaymentDays"})
    assert {"Code": "30", "PaymentDays": 30} in [
        {k: r[k] for k in ("Code", "PaymentDays")} for r in conditions
    ]
    types = exact.results("documents/DocumentTypes")
    assert {(t["ID"], t["Description"]) for t in types} >= {(10, "Sales invoice")}
    assert (
        exact.get("documents/DocumentTypes(10)").get_json()["d"]["Description"] == "Sales invoice"
    )


def test_without_accept_json_the_answer_is_atom(exact):
    response = exact.get("crm/Accounts", {"$top": "2", "$select": "Code,Name"}, accept_json=False)
    assert response.status_code == 200
    assert response.content_type.startswith("application/atom+xml")
    feed = ET.fromstring(response.data)  # noqa: S314 - our own output
    ns = {
        "a": "http://www.w3.org/2005/Atom",
        "m": "http://schemas.microsoft.com/ado/2007/08/dataservices/metadata",
        "d": "http://schemas.microsoft.com/ado/2007/08/dataservices",
    }
    names = [e.text for e in feed.findall("a:entry/a:content/m:properties/d:Name", ns)]
    assert names == ["Brouwerij De Klok", "Atelier Noord"]


def test_unknown_entity_is_404(exact):
    assert exact.get("crm/Nothing").status_code == 404


def test_create_account_without_prefer_fills_only_the_id(exact):
    response = exact.post("crm/Accounts", {"Name": "Nieuwe Klant", "Status": "C"}, prefer=False)
    assert response.status_code == 201
    record = response.get_json()["d"]
    assert record["ID"] and record["Name"] is None and record["Code"] is None
    assert "BankAccounts" in record and record["__metadata"]["type"].endswith(".Account")
    stored = exact.get(f"crm/Accounts(guid'{record['ID']}')").get_json()["d"]
    assert stored["Name"] == "Nieuwe Klant"
    assert stored["Code"] == " " * 17 + "9"  # highest seeded code 8, + 1


def test_create_account_with_code_status_default_and_errors(exact):
    made = exact.created("crm/Accounts", {"Name": "Zonder Status", "Code": "5000"})
    assert made["Code"] == "5000".rjust(18)
    assert made["Status"] == "A"
    assert exact.created("crm/Accounts", {"Name": "Daarna"})["Code"] == "5001".rjust(18)
    missing = exact.post("crm/Accounts", {"Email": "x@y.example"})
    assert missing.status_code == 500
    assert missing.get_json()["error"]["message"]["value"] == "Mandatory: Name"
    duplicate = exact.post("crm/Accounts", {"Name": "Dubbel", "Code": "5000"})
    assert duplicate.status_code == 500
    unknown = exact.post("crm/Accounts", {"Name": "X", "Colour": "blue"})
    assert unknown.status_code == 400
    assert "Colour" in unknown.get_json()["error"]["message"]["value"]


def test_combined_sandbox_mounts_exact_under_its_prefix():
    combined = sandbox.create_app({"exact": {"SEED": 7}})
    app = combined.emulators["exact"]
    client = Client(combined)
    caller = Caller(app)
    tokens = caller.login()
    headers = {"Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/json"}
    response = client.get(f"/exact/be/api/v1/{DIVISION}/financial/Journals", headers=headers)
    uri = response.json["d"]["results"][0]["__metadata"]["uri"]
    assert uri.startswith(f"http://localhost/exact/be/api/v1/{DIVISION}/financial/Journals(")
    page = client.get(
        "/exact/be/api/oauth2/auth?client_id=collector-sandbox"
        "&redirect_uri=https://x.example/cb&response_type=code"
    )
    assert 'action="/exact/be/api/oauth2/auth"' in page.get_data(as_text=True)


# -- issue 25: a query Exact cannot parse is answered in plain text, not in the envelope ------


@pytest.mark.parametrize(
    "params",
    [
        {"$filter": "Name eq 'open"},
        {"$filter": "(Code eq '1'"},
        {"$orderby": "Name up"},
    ],
)
def test_a_malformed_query_is_a_plain_text_400(params):
    exact = logged_in()

    response = exact.get("crm/Accounts", params)

    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == "Bad Request - Error in query syntax."


def test_a_malformed_key_is_a_plain_text_400():
    exact = logged_in()

    response = exact.get("crm/Accounts(guid'nope')")

    assert response.status_code == 400
    assert response.get_data(as_text=True) == "Bad Request - Error in query syntax."


def test_an_unknown_property_is_a_json_400_naming_it():
    exact = logged_in()

    response = exact.get("system/Divisions", {"$select": "Code,HID,Main"}, division=DIVISION)

    assert response.status_code == 400
    message = response.get_json()["error"]["message"]["value"]
    assert message == "No property 'HID' exists in type 'Exact.Web.Api.Models.System.Division'."
