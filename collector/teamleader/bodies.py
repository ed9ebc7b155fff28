"""Build and check the request bodies we send to Teamleader.

Teamleader silently ignores keys it does not know — ``include`` for ``includes`` returns
success without the data (reference §15.5) — and there is no ``paid`` or ``booked`` status to
filter on (§6.1, §15.6). So every body is built here from named arguments: an unknown filter
raises ``TypeError`` and a bad value ``ValueError``, before anything is sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

INVOICE_STATUSES = frozenset({"draft", "outstanding", "matched"})
SUBSCRIPTION_STATUSES = frozenset({"active", "deactivated"})
DEPARTMENT_STATUSES = frozenset({"active", "archived"})
CUSTOMER_TYPES = frozenset({"contact", "company"})
INVOICE_FORMATS = frozenset({"pdf", "ubl/e-fff", "ubl/peppol_bis_3"})
CREDIT_NOTE_FORMATS = frozenset({"pdf", "ubl/e-fff"})
CUSTOM_FIELD_CONTEXTS = frozenset(
    {
        "contact",
        "company",
        "deal",
        "project",
        "milestone",
        "product",
        "invoice",
        "subscription",
        "ticket",
    }
)
# The webhook types this service can use (reference §12); Teamleader's enum has more (deals,
# projects, tickets…). Registering an unknown type is refused here rather than by Teamleader.
WEBHOOK_TYPES = frozenset(
    {
        "invoice.booked",
        "invoice.drafted",
        "invoice.updated",
        "invoice.deleted",
        "invoice.sent",
        "invoice.paymentRegistered",
        "invoice.paymentRemoved",
        "creditNote.booked",
        "creditNote.updated",
        "creditNote.deleted",
        "creditNote.sent",
        "contact.added",
        "contact.updated",
        "contact.deleted",
        "company.added",
        "company.updated",
        "company.deleted",
        "subscription.added",
        "subscription.updated",
        "subscription.deactivated",
        "subscription.deleted",
        "account.deactivated",
        "account.deleted",
        "user.deactivated",
    }
)
_CURRENCY = re.compile(r"[A-Z]{3}")


def compact(mapping: dict) -> dict:
    """Drop keys whose value is None (an absent filter, not a null one)."""
    return {key: value for key, value in mapping.items() if value is not None}


def identifier(value: str, name: str = "id") -> str:
    """Check one Teamleader id (a UUID string)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string")
    return value


def optional_id(value: str | None, name: str) -> str | None:
    """Check an optional id filter; None means "no filter"."""
    return None if value is None else identifier(value, name)


def id_list(ids: Iterable[str] | None, name: str = "ids") -> list[str] | None:
    """Check a list of ids, dropping duplicates; a bare string is refused (it would iterate)."""
    if ids is None:
        return None
    if isinstance(ids, str):
        raise ValueError(f"{name} must be a list of ids, not a string")
    return list(dict.fromkeys(identifier(value, name) for value in ids))


def chunks(ids: list[str], size: int) -> Iterator[list[str]]:
    """Split ``ids`` into lists of at most ``size``."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def choices(values: str | Iterable[str] | None, allowed: frozenset[str], name: str) -> list | None:
    """Check a list filter against its allowed values; one string is taken as a list of one."""
    if values is None:
        return None
    values = [values] if isinstance(values, str) else list(values)
    unknown = sorted(set(values) - allowed)
    if unknown or not values:
        raise ValueError(f"{name}: {unknown or 'empty'} not in {sorted(allowed)}")
    return values


def choice(value: str | None, allowed: frozenset[str], name: str) -> str | None:
    """Check one value against its allowed values."""
    if value is not None and value not in allowed:
        raise ValueError(f"{name}: {value!r} not in {sorted(allowed)}")
    return value


def iso_datetime(value: datetime | None, name: str) -> str | None:
    """An aware datetime as ISO 8601 in UTC, e.g. ``2016-02-04T16:44:33+00:00``."""
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return value.astimezone(UTC).isoformat(timespec="seconds")


def iso_date(value: date | None, name: str) -> str | None:
    """A date as ``YYYY-MM-DD`` (a datetime is refused: which day it means depends on a zone)."""
    if value is None:
        return None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValueError(f"{name} must be a date")
    return value.isoformat()


def customer(value: tuple[str, str] | None, name: str = "customer") -> dict | None:
    """A ``(type, id)`` pair as the ``customer`` filter ``{type: contact|company, id}``."""
    if value is None:
        return None
    if isinstance(value, str) or len(value) != 2:
        raise ValueError(f"{name} must be a (type, id) pair")
    kind, customer_id = value
    return {"type": choice(kind, CUSTOMER_TYPES, "customer type"), "id": identifier(customer_id)}


def primary_email(email: str | None, name: str = "email") -> dict | None:
    """The contacts/companies ``email`` filter; the lists filter on the primary address only."""
    if email is None:
        return None
    if not isinstance(email, str) or "@" not in email:
        raise ValueError(f"{name} must be an email address")
    return {"type": "primary", "email": email}


def _one_of(allowed: frozenset[str]) -> Callable[[object, str], list | None]:
    return lambda value, name: choices(value, allowed, name)


# Filters each list endpoint accepts, with the function that checks and encodes each value
# (called as ``encode(value, name)``). Anything else is refused: Teamleader would ignore it.
INVOICE_FILTERS: dict[str, Callable] = {
    "ids": id_list,
    "status": _one_of(INVOICE_STATUSES),
    "department_id": identifier,
    "updated_since": iso_datetime,
    "invoice_date_after": iso_date,
    "invoice_date_before": iso_date,
    "customer": customer,
    "subscription_id": identifier,
}
CREDIT_NOTE_FILTERS: dict[str, Callable] = {
    "ids": id_list,
    "department_id": identifier,
    "updated_since": iso_datetime,
    "invoice_id": identifier,
    "customer": customer,
    "credit_note_date_after": iso_date,
    "credit_note_date_before": iso_date,
}
CONTACT_FILTERS: dict[str, Callable] = {
    "ids": id_list,
    "updated_since": iso_datetime,
    "email": primary_email,
}
COMPANY_FILTERS: dict[str, Callable] = {**CONTACT_FILTERS, "vat_number": identifier}
SUBSCRIPTION_FILTERS: dict[str, Callable] = {
    "ids": id_list,
    "invoice_id": identifier,
    "department_id": identifier,
    "customer": customer,
    "status": _one_of(SUBSCRIPTION_STATUSES),
}


def list_filter(filters: dict[str, object], allowed: dict[str, Callable]) -> dict:
    """Check and encode ``filters`` (None values are dropped) for one list endpoint."""
    unknown = sorted(set(filters) - set(allowed))
    if unknown:
        raise TypeError(f"unknown filter(s) {unknown}; expected some of {sorted(allowed)}")
    return {
        name: allowed[name](value, name) for name, value in filters.items() if value is not None
    }


def money(amount: Decimal, currency: str) -> dict:
    """``{amount, currency}`` for a positive Decimal amount.

    JSON has no decimal type and Teamleader expects a number. A Decimal of at most 15
    significant digits converts to a float whose shortest repr is that same decimal, so the
    number on the wire is exact; anything else is refused rather than rounded.
    """
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise ValueError("amount must be a positive, finite Decimal")
    number = float(amount)
    if Decimal(repr(number)) != amount:
        raise ValueError("amount has too many digits to send exactly")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise ValueError("currency must be an ISO 4217 code such as EUR")
    return {"amount": number, "currency": currency}


def webhook(url: str, types: Iterable[str]) -> dict:
    """The ``{url, types}`` body of webhooks.register/unregister."""
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise ValueError("url must be an http(s) URL")
    return {"url": url, "types": choices(types or [], WEBHOOK_TYPES, "types")}
