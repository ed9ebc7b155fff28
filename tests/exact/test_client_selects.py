"""Issue 25, point 2: every ``$select`` and ``$filter`` the client sends names properties the
entity has — checked against the sandbox's verified property lists, which refuse any other
name with a 400 as Exact does (``sandbox/exact/fields.py`` names the sources)."""

from __future__ import annotations

import pytest
import responses

from collector.exact import ValidationFailed, client, schemas
from sandbox.exact import entities

from .sandbox import routed_client

# Each entity the client reads with a $select, and what it selects there.
SELECTS = {
    client.DIVISIONS: schemas.DivisionSchema,
    client.JOURNALS: schemas.JournalSchema,
    client.VAT_CODES: schemas.VATCodeSchema,
    client.GL_ACCOUNTS: schemas.GLAccountSchema,
    client.PAYMENT_CONDITIONS: schemas.PaymentConditionSchema,
    client.DOCUMENT_TYPES: schemas.DocumentTypeSchema,
    client.ACCOUNTS: schemas.AccountSchema,
    client.RECEIVABLES: schemas.ReceivableSchema,
    client.SALES_ENTRIES: client.SALES_ENTRY_REF_FIELDS.split(","),
}


def _names(selected) -> list[str]:
    return list(selected) if isinstance(selected, list) else list(selected().fields)


@pytest.fixture
def mock():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.mark.parametrize("path", sorted(SELECTS))
def test_every_selected_property_exists_on_the_entity(path):
    entity = entities.lookup(path)

    unknown = [name for name in _names(SELECTS[path]) if name not in entity.properties]

    assert unknown == [], f"{path} has no {unknown}"


def test_system_divisions_spells_hid_and_is_main_division():
    names = _names(schemas.DivisionSchema)

    assert {"Hid", "IsMainDivision"} <= set(names)
    assert not {"HID", "Main"} & set(names)  # hrm/Divisions' spelling, refused here


@pytest.mark.parametrize(
    "read",
    [
        lambda c: c.divisions(),
        lambda c: c.journals(),
        lambda c: c.vat_codes(),
        lambda c: c.gl_accounts(),
        lambda c: c.payment_conditions(),
        lambda c: c.document_types(),
        lambda c: c.find_accounts(email="x@example.com", vat_numbers=["BE0477472701"], code="1"),
        lambda c: c.sales_entries_by_ref("70", ["F2026/1", "F2026/2"]),
        lambda c: c.receivables(["5f0a5c6e-2a7e-4b7f-9a55-6d1c0c1c0c1c"]),
    ],
    ids=[
        "divisions",
        "journals",
        "vat_codes",
        "gl_accounts",
        "payment_conditions",
        "document_types",
        "find_accounts",
        "sales_entries_by_ref",
        "receivables",
    ],
)
def test_each_read_is_accepted_by_the_strict_sandbox(mock, read):
    exact, _ = routed_client(mock)

    rows = read(exact)

    assert isinstance(rows, list)


def test_the_divisions_read_returns_the_administrations_with_their_numbers(mock):
    exact, caller = routed_client(mock)

    divisions = exact.divisions()

    codes = {d["Code"] for d in divisions}
    assert codes == set(caller.emulator.store.divisions)
    assert all(d["Hid"] == d["Code"] for d in divisions)
    assert sum(bool(d["IsMainDivision"]) for d in divisions) == 1


def test_an_unknown_property_is_refused_like_exact_does(mock):
    exact, _ = routed_client(mock)

    with pytest.raises(ValidationFailed) as caught:
        exact.get(client.DIVISIONS, {"$select": "Code,HID"})

    assert caught.value.status == 400
    assert "No property 'HID' exists" in str(caught.value)


def test_exacts_plain_text_answer_to_a_malformed_query_reaches_the_user(mock):
    exact, _ = routed_client(mock)

    with pytest.raises(ValidationFailed) as caught:
        exact.get(client.ACCOUNTS, {"$filter": "Name eq 'open", "$select": "ID"})

    assert str(caught.value) == "crm/Accounts: HTTP 400: Bad Request - Error in query syntax."
