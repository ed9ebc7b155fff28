"""``users.me``, ``departments.*``, ``customFieldDefinitions.*``, ``paymentMethods.list``,
``subscriptions.*`` and ``webhooks.*`` (reference §1, §9–§12)."""

from __future__ import annotations

from urllib.parse import urlsplit

from . import errors, views
from .listing import (
    Filter,
    apply_filters,
    customer_filter,
    ids_filter,
    link_filter,
    paginate,
    sort,
)
from .registry import Call, method
from .webhooks import EVENT_TYPES

CONTEXTS = (
    "contact",
    "company",
    "deal",
    "project",
    "milestone",
    "product",
    "invoice",
    "subscription",
    "ticket",
)


def _enum_set(allowed: tuple[str, ...]) -> Filter:
    def parse(value: object, field: str) -> set[str]:
        return set(errors.as_enum_list(value, field, allowed))

    return Filter(parse, lambda r, wanted: r["status"] in wanted)


@method("users.me")
def users_me(call: Call) -> dict:
    """The authorising user with ``account: {type, id}``, the tenant key."""
    with call.store.lock:
        return {"data": views.public(call.store.data.user)}


DEPARTMENT_FILTERS = {"ids": ids_filter(), "status": _enum_set(("active", "archived"))}
DEPARTMENT_SORTS = {
    "default_department": lambda r: 0 if r["_default"] else 1,
    "name": lambda r: r["name"].lower(),
    "created_at": lambda r: r["created_at"],
}


@method("departments.list")
def departments_list(call: Call) -> dict:
    """All departments. There is no ``page`` parameter: asking for page 2 returns the same
    rows (reference §3, §11), so a loop-until-empty client never ends, as with the real one."""
    with call.store.lock:
        rows = apply_filters(call.store.data.departments.values(), call.body, DEPARTMENT_FILTERS)
        rows = sort(rows, call.body, DEPARTMENT_SORTS, [("default_department", "asc")])
        return {"data": [views.department_list_item(r) for r in rows]}


@method("departments.info")
def departments_info(call: Call) -> dict:
    """One department with address, iban and bic."""
    with call.store.lock:
        return {"data": views.department_info(call.record(call.store.data.departments))}


DEFINITION_FILTERS = {
    "ids": ids_filter(),
    "context": Filter(lambda v, f: errors.as_enum(v, f, CONTEXTS), lambda r, c: r["context"] == c),
}


@method("customFieldDefinitions.list")
def custom_field_definitions_list(call: Call) -> dict:
    """Definitions, paginated with the usual default of 20 (reference §9)."""
    with call.store.lock:
        rows = apply_filters(call.store.data.custom_fields.values(), call.body, DEFINITION_FILTERS)
        rows = sort(rows, call.body, {"label": lambda r: r["label"].lower()}, [("label", "asc")])
        return {"data": [views.public(r) for r in paginate(rows, call.body)]}


@method("customFieldDefinitions.info")
def custom_field_definitions_info(call: Call) -> dict:
    """One definition; options are ``[{id, value}]`` (API version 2023-09-26)."""
    with call.store.lock:
        return {"data": views.public(call.record(call.store.data.custom_fields))}


@method("paymentMethods.list")
def payment_methods_list(call: Call) -> dict:
    """Payment methods, for ``registerPayment``'s ``payment_method_id``."""
    spec = {"ids": ids_filter(), "status": _enum_set(("active", "archived"))}
    with call.store.lock:
        rows = apply_filters(call.store.data.payment_methods.values(), call.body, spec)
        return {"data": [views.public(r) for r in paginate(rows, call.body)]}


@method("taxRates.list")
def tax_rates_list(call: Call) -> dict:
    """Tax rates per department: ``{id, description, rate, department: {type, id}}``."""
    spec = {"department_id": link_filter("department")}
    with call.store.lock:
        rows = [
            {
                "id": ident,
                "description": f"{tax['rate'] * 100:g}%",
                "rate": tax["rate"],
                "department": {"type": "department", "id": tax["department_id"]},
            }
            for ident, tax in call.store.data.tax_rates.items()
        ]
        rows = apply_filters(rows, call.body, spec)
        return {"data": list(paginate(rows, call.body))}


def _subscription_filters(invoices: dict) -> dict[str, Filter]:
    def generated(record: dict, invoice_id: str) -> bool:
        link = (invoices.get(invoice_id) or {}).get("subscription") or {}
        return link.get("id") == record["id"]

    return {
        "ids": ids_filter(),
        "invoice_id": Filter(errors.as_string, generated),
        "deal_id": link_filter("deal"),
        "department_id": link_filter("department"),
        "customer": customer_filter(lambda r: r["invoicee"]["customer"]),
        "status": _enum_set(("active", "deactivated")),
    }


SUBSCRIPTION_SORTS = {
    "title": lambda r: r["title"].lower(),
    "created_at": lambda r: r["created_at"],
    "status": lambda r: r["status"],
}


@method("subscriptions.list")
def subscriptions_list(call: Call) -> dict:
    """Subscriptions; ``filter.invoice_id`` finds the one that generated an invoice."""
    with call.store.lock:
        spec = _subscription_filters(call.store.data.invoices)
        rows = apply_filters(call.store.data.subscriptions.values(), call.body, spec)
        rows = paginate(
            sort(rows, call.body, SUBSCRIPTION_SORTS, [("created_at", "asc")]), call.body
        )
        return {"data": [views.subscription_list_item(r) for r in rows]}


@method("subscriptions.info")
def subscriptions_info(call: Call) -> dict:
    """One subscription with payment term, lines, invoice generation and custom fields."""
    with call.store.lock:
        return {"data": views.subscription_info(call.record(call.store.data.subscriptions))}


def _registration(body: dict) -> tuple[str, list[str]]:
    url = errors.as_string(errors.require(body, "url"), "url")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise errors.invalid("url", "url must be an absolute http(s) URL")
    types = errors.as_enum_list(errors.require(body, "types"), "types", EVENT_TYPES)
    if not types:
        raise errors.invalid("types", "types must not be empty")
    return url, types


@method("webhooks.register")
def webhooks_register(call: Call) -> None:
    """Add event types for a URL (registrations belong to the calling integration)."""
    url, types = _registration(call.body)
    with call.store.lock:
        hooks = call.store.webhooks.setdefault(call.grant["client_id"], {})
        hooks.setdefault(url, set()).update(types)


@method("webhooks.list")
def webhooks_list(call: Call) -> dict:
    """The integration's registrations, ordered by URL (reference §12)."""
    with call.store.lock:
        hooks = call.store.webhooks.get(call.grant["client_id"], {})
        return {"data": [{"url": url, "types": sorted(hooks[url])} for url in sorted(hooks)]}


@method("webhooks.unregister")
def webhooks_unregister(call: Call) -> None:
    """Remove event types for a URL; a URL without types left disappears."""
    url, types = _registration(call.body)
    with call.store.lock:
        hooks = call.store.webhooks.get(call.grant["client_id"], {})
        remaining = hooks.get(url, set()) - set(types)
        if remaining:
            hooks[url] = remaining
        else:
            hooks.pop(url, None)
