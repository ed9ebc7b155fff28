"""Conformance: the emulator's answers have the keys and JSON types of the reference
fixtures, and it accepts the documented request bodies.

The comparator checks that every key of the fixture exists in the answer with a
compatible JSON type, recursing into objects and comparing lists on their first element;
``null`` on either side is tolerated (Teamleader returns ``null`` for empty scalars,
reference §2). Extra keys in the answer are allowed. Several fixtures are portal "auto
examples" with placeholder values (``"type": "string"``, currency ``"BAM"``): only shapes are
compared, never values.

Deliberate deviations, each handled below:

* ``creditNotes.info``: the docs show ``data`` as a one-element array, most likely a doc
  bug (reference §7); the emulator answers an object, so the fixture's ``data[0]`` is
  compared with our ``data``.
* ``error.response.guidelines-example.json``: the numeric ``code`` comes from an internal
  guideline with no documented code list; the emulator sends ``title``, ``status`` and
  ``meta`` only.
* ``generic.list-with-pagination-meta.response.json``: ``meta`` only comes with
  ``includes=pagination`` on some lists and not at all on the lists collector uses
  (reference §3); the emulator never sends it, so this fixture is not compared.
* ``invoices.list``: the fixture shows late-fee totals, which need ``includes=late_fees``;
  it lacks the keys only ``invoices.info`` has, and the emulator's list item lacks them too.
"""

from __future__ import annotations

import pytest

from tests.support.payloads import teamleader_payload as load_fixture

from .conftest import CLIENT_ID, CLIENT_SECRET, authorization_code

JSON_TYPES = {bool: "boolean", int: "number", float: "number", str: "string"}


def json_type(value: object) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return JSON_TYPES[type(value)]


def assert_same_shape(expected, actual, path: str = "$", ignore: frozenset = frozenset()):
    """Every key of ``expected`` is in ``actual`` with a compatible type (see module doc)."""
    if expected is None or actual is None or path in ignore:
        return
    assert json_type(actual) == json_type(expected), f"{path}: {actual!r} vs {expected!r}"
    if isinstance(expected, dict):
        for key, value in expected.items():
            if f"{path}.{key}" in ignore:
                continue
            assert key in actual, f"{path}.{key} is missing"
            assert_same_shape(value, actual[key], f"{path}.{key}", ignore)
    elif isinstance(expected, list) and expected and actual:
        assert_same_shape(expected[0], actual[0], f"{path}[0]", ignore)


def test_comparator_catches_missing_keys_and_wrong_types():
    assert_same_shape({"a": {"b": 1}}, {"a": {"b": 2.5, "c": "extra"}})
    assert_same_shape({"a": [{"b": "x"}]}, {"a": []})
    assert_same_shape({"a": {"b": 1}}, {"a": None})
    with pytest.raises(AssertionError, match=r"\$\.a\.b is missing"):
        assert_same_shape({"a": {"b": 1}}, {"a": {}})
    with pytest.raises(AssertionError, match=r"\$\.a\[0\]"):
        assert_same_shape({"a": ["x"]}, {"a": [1]})
    with pytest.raises(AssertionError, match=r"\$\.a: 1 vs True"):
        assert_same_shape({"a": True}, {"a": 1})


@pytest.fixture
def rich(emulator, tl) -> dict:
    """Ids of records that fill as many optional members as possible."""
    data = emulator.store.data
    invoices = list(data.invoices.values())

    def first(rows, test):
        return next(r["id"] for r in rows if test(r))

    invoice = first(invoices, lambda i: i["payments"] and i["invoicee"]["for_attention_of"])
    # Give it a profile as a user would, so custom_fields[0].value is filled as well.
    changed = tl.patch(f"/_control/invoices/{invoice}", json={"profile": "Payment link"})
    assert changed.status_code == 200
    return {
        "invoice": invoice,
        "listed_invoice": first(
            invoices, lambda i: i["subscription"] and i["invoicee"]["for_attention_of"]
        ),
        "credit_note": next(iter(data.credit_notes)),
        "contact": first(data.contacts.values(), lambda c: c["companies"]),
        "company": first(
            data.companies.values(), lambda c: c["custom_fields"] and c["_contact_ids"]
        ),
        "subscription": first(
            data.subscriptions.values(), lambda s: s["custom_fields"][0]["value"]
        ),
        "department": next(iter(data.departments)),
        "definition": first(data.custom_fields.values(), lambda d: d["type"] == "single_select"),
    }


# fixture file -> (method, body built from the rich ids)
RESPONSES = {
    "users.me.response.json": ("users.me", lambda r: {}),
    "departments.list.response.json": ("departments.list", lambda r: {}),
    "departments.info.response.json": ("departments.info", lambda r: {"id": r["department"]}),
    "customFieldDefinitions.list.response.json": (
        "customFieldDefinitions.list",
        lambda r: {"filter": {"ids": [r["definition"]]}},
    ),
    "customFieldDefinitions.info.response.json": (
        "customFieldDefinitions.info",
        lambda r: {"id": r["definition"]},
    ),
    "invoices.list.response.json": (
        "invoices.list",
        lambda r: {"filter": {"ids": [r["listed_invoice"]]}, "includes": "late_fees"},
    ),
    "invoices.info.response.json": (
        "invoices.info",
        lambda r: {"id": r["invoice"], "includes": "late_fees"},
    ),
    "invoices.download.response.json": (
        "invoices.download",
        lambda r: {"id": r["invoice"], "format": "pdf"},
    ),
    "creditNotes.list.response.json": ("creditNotes.list", lambda r: {}),
    "creditNotes.download.response.json": (
        "creditNotes.download",
        lambda r: {"id": r["credit_note"], "format": "pdf"},
    ),
    "contacts.list.response.json": (
        "contacts.list",
        lambda r: {"filter": {"ids": [r["contact"]]}, "includes": "custom_fields,price_list"},
    ),
    "contacts.info.response.json": ("contacts.info", lambda r: {"id": r["contact"]}),
    "companies.list.response.json": (
        "companies.list",
        lambda r: {"filter": {"ids": [r["company"]]}, "includes": "custom_fields,price_list"},
    ),
    "companies.info.response.json": (
        "companies.info",
        lambda r: {"id": r["company"], "includes": "related_companies,related_contacts"},
    ),
    "subscriptions.list.response.json": (
        "subscriptions.list",
        lambda r: {"filter": {"ids": [r["subscription"]]}},
    ),
    "subscriptions.info.response.json": ("subscriptions.info", lambda r: {"id": r["subscription"]}),
    "paymentMethods.list.response.json": ("paymentMethods.list", lambda r: {}),
}


@pytest.mark.parametrize("fixture", sorted(RESPONSES))
def test_response_has_the_fixture_shape(api, rich, fixture):
    method, body = RESPONSES[fixture]
    response = api(method, body(rich))
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert answer["data"], "compare against a non-empty answer"
    assert_same_shape(load_fixture(fixture), answer)


def test_credit_notes_info_shape_with_object_data(api, rich):
    expected = load_fixture("creditNotes.info.response.json")["data"][0]  # docs: array
    answer = api("creditNotes.info", {"id": rich["credit_note"]}).get_json()["data"]
    assert_same_shape(expected, answer)


def test_webhooks_list_shape(api):
    api("webhooks.register", load_fixture("webhooks.register.request.json"))
    answer = api("webhooks.list").get_json()
    assert_same_shape(load_fixture("webhooks.list.response.json"), answer)


def test_token_response_shape(tl):
    body = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "grant_type": "authorization_code",
        "code": authorization_code(tl),
        "redirect_uri": "https://collector.example/teamleader/callback",
    }
    answer = tl.post("/oauth2/access_token", json=body).get_json()
    assert answer.keys() == load_fixture("oauth2.access_token.response.json").keys()
    assert_same_shape(load_fixture("oauth2.access_token.response.json"), answer)


def test_error_shapes(api):
    answer = api("companies.info", {"id": 12}).get_json()
    assert_same_shape(load_fixture("error.response.json"), answer)
    guideline = load_fixture("error.response.guidelines-example.json")
    assert_same_shape(guideline, answer, ignore=frozenset({"$.errors[0].code"}))


# The documented request bodies are accepted ------------------------------------------

LIST_REQUESTS = [
    ("invoices.list", "invoices.list.request.json"),
    ("contacts.list", "contacts.list.request.json"),
    ("companies.list", "companies.list.request.json"),
    ("customFieldDefinitions.list", "customFieldDefinitions.list.request.json"),
    ("departments.list", "departments.list.request.json"),
    ("subscriptions.list", "subscriptions.list.request.json"),
]


@pytest.mark.parametrize(("method", "fixture"), LIST_REQUESTS)
def test_documented_list_requests_are_accepted(api, method, fixture):
    response = api(method, load_fixture(fixture))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["data"] == []  # the fixtures' ids do not exist here


def test_documented_action_requests_are_accepted(api, rich, data):
    invoice = rich["listed_invoice"]
    for name in ("invoices.info", "invoices.download"):
        body = {**load_fixture(f"{name}.request.json"), "id": invoice}
        assert api(name, body).status_code == 200
    payment = load_fixture("invoices.registerPayment.request.json")
    method_id = data("paymentMethods.list")[0]["id"]
    payment = {**payment, "id": invoice, "payment_method_id": method_id}
    assert api("invoices.registerPayment", payment).status_code == 204
    remove = {**load_fixture("invoices.removePayments.request.json"), "id": invoice}
    assert api("invoices.removePayments", remove).status_code == 204
    companies = {**load_fixture("companies.info.request.json"), "id": rich["company"]}
    assert api("companies.info", companies).status_code == 200
    assert (
        api("webhooks.register", load_fixture("webhooks.register.request.json")).status_code == 204
    )


def test_documented_ids_that_do_not_exist_are_400(api):
    response = api(
        "invoices.registerPayment", load_fixture("invoices.registerPayment.request.json")
    )
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["meta"]["field"] == "id"
