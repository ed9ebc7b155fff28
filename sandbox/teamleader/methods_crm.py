"""``contacts.*`` and ``companies.*`` (reference §8)."""

from __future__ import annotations

from . import errors, views
from .listing import (
    Filter,
    apply_filters,
    ids_filter,
    includes,
    paginate,
    sort,
    updated_since_filter,
)
from .registry import Call, method

STATUSES = ("active", "deactivated")


def _email_filter(types: tuple[str, ...]) -> Filter:
    """``email: {type, email}``; contacts only have ``primary``, companies also ``invoicing``."""

    def parse(value: object, field: str) -> tuple[str, str]:
        value = errors.as_object(value, field)
        kind = errors.as_enum(value.get("type"), f"{field}.type", types)
        return kind, errors.as_string(value.get("email"), f"{field}.email").lower()

    def test(record: dict, wanted: tuple[str, str]) -> bool:
        return any((e["type"], e["email"].lower()) == wanted for e in record["emails"])

    return Filter(parse, test)


def _term_filter(name) -> Filter:
    def test(record: dict, term: str) -> bool:
        texts = [name(record)] + [e["email"] for e in record["emails"]]
        return any(term.lower() in text.lower() for text in texts)

    return Filter(errors.as_string, test)


def _tags_filter() -> Filter:
    return Filter(errors.as_string_list, lambda r, tags: set(tags) <= set(r["tags"]))


def _status_filter() -> Filter:
    return Filter(lambda v, f: errors.as_enum(v, f, STATUSES), lambda r, s: r["status"] == s)


def _normalised_vat(value: str) -> str:
    """``BE 0899.623.035`` (fixture) and ``BE0899623035`` are the same number."""
    return "".join(ch for ch in value.upper() if ch.isalnum())


def _contact_name(record: dict) -> str:
    return f"{record['first_name']} {record['last_name']}"


CONTACT_FILTERS = {
    "email": _email_filter(("primary",)),
    "ids": ids_filter(),
    "company_id": Filter(
        errors.as_string, lambda r, v: any(c["company"]["id"] == v for c in r["companies"])
    ),
    "term": _term_filter(_contact_name),
    "updated_since": updated_since_filter(),
    "tags": _tags_filter(),
    "status": _status_filter(),
}
COMPANY_FILTERS = {
    "email": _email_filter(("primary", "invoicing")),
    "ids": ids_filter(),
    "term": _term_filter(lambda r: r["name"]),
    "updated_since": updated_since_filter(),
    "tags": _tags_filter(),
    "vat_number": Filter(
        lambda v, f: _normalised_vat(errors.as_string(v, f)),
        lambda r, v: _normalised_vat(r["vat_number"] or "") == v,
    ),
    "national_identification_number": Filter(
        errors.as_string, lambda r, v: r["national_identification_number"] == v
    ),
    "status": _status_filter(),
}
CONTACT_SORTS = {
    "name": lambda r: (r["last_name"].lower(), r["first_name"].lower()),
    "added_at": lambda r: r["added_at"],
    "updated_at": lambda r: r["updated_at"],
}
COMPANY_SORTS = {**CONTACT_SORTS, "name": lambda r: r["name"].lower()}


@method("contacts.list")
def contacts_list(call: Call) -> dict:
    """Contacts; ``custom_fields`` only with ``includes=custom_fields`` (added 2024)."""
    extra = includes(call.body)
    with call.store.lock:
        rows = apply_filters(call.store.data.contacts.values(), call.body, CONTACT_FILTERS)
        rows = paginate(sort(rows, call.body, CONTACT_SORTS, [("name", "asc")]), call.body)
        return {"data": [views.contact_list_item(r, extra) for r in rows]}


@method("contacts.info")
def contacts_info(call: Call) -> dict:
    """One contact, with addresses and custom fields."""
    with call.store.lock:
        return {"data": views.contact_info(call.record(call.store.data.contacts))}


@method("companies.list")
def companies_list(call: Call) -> dict:
    """Companies; filter ``vat_number`` ignores spaces and dots."""
    extra = includes(call.body)
    with call.store.lock:
        rows = apply_filters(call.store.data.companies.values(), call.body, COMPANY_FILTERS)
        rows = paginate(sort(rows, call.body, COMPANY_SORTS, [("name", "asc")]), call.body)
        return {"data": [views.company_list_item(r, extra) for r in rows]}


@method("companies.info")
def companies_info(call: Call) -> dict:
    """One company; ``includes=related_companies,related_contacts`` adds the links."""
    extra = includes(call.body)
    with call.store.lock:
        company = call.record(call.store.data.companies)
        return {"data": views.company_info(company, extra, call.store.data.contacts)}
