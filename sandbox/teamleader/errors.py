"""API errors in Teamleader's shape, and the body validators that raise them.

Reference §5: errors come as a top-level ``errors`` array whose items always have a
``title``; the internal guideline adds optional ``status`` and ``meta: {field}``
(fixture ``error.response.guidelines-example.json``). Reference §5 also says a bad
value *or a reference to a resource that does not exist* is a 400, not a 404; 404 is
for an unknown method.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from .clock import parse_date, parse_datetime


class ApiError(Exception):
    """An error answer: HTTP status plus one ``errors[]`` item."""

    def __init__(self, status: int, title: str, field: str | None = None) -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.field = field

    def body(self) -> dict:
        """The JSON body: ``{"errors": [{"title", "status", "meta"?}]}``."""
        item: dict = {"title": self.title, "status": self.status}
        if self.field:
            item["meta"] = {"field": self.field}
        return {"errors": [item]}


def invalid(field: str, title: str) -> ApiError:
    """A 400 about one field of the request body."""
    return ApiError(400, title, field)


def require(body: dict, key: str, path: str = "") -> object:
    """Return ``body[key]``, or raise a 400 naming the missing field."""
    field = f"{path}{key}"
    if body.get(key) is None:
        raise invalid(field, f"{field} is required")
    return body[key]


def as_object(value: object, field: str) -> dict:
    """Check that ``value`` is a JSON object."""
    if not isinstance(value, dict):
        raise invalid(field, f"{field} must be an object")
    return value


def as_string(value: object, field: str) -> str:
    """Check that ``value`` is a non-empty string."""
    if not isinstance(value, str) or not value:
        raise invalid(field, f"{field} must be a non-empty string")
    return value


def as_string_list(value: object, field: str) -> list[str]:
    """Check that ``value`` is an array of strings (filters such as ``ids``, ``status``)."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise invalid(field, f"{field} must be an array of strings")
    return value


def as_enum(value: object, field: str, allowed: tuple[str, ...]) -> str:
    """Check that ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise invalid(field, f"{field} must be one of: {', '.join(allowed)}")
    return value  # type: ignore[return-value]


def as_enum_list(value: object, field: str, allowed: tuple[str, ...]) -> list[str]:
    """An array whose every item is one of ``allowed``."""
    items = as_string_list(value, field)
    for item in items:
        as_enum(item, field, allowed)
    return items


def as_int(value: object, field: str, minimum: int = 1) -> int:
    """Check that ``value`` is an integer (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise invalid(field, f"{field} must be an integer >= {minimum}")
    return value


def as_amount(value: object, field: str) -> Decimal:
    """A JSON number as Decimal (via ``str`` so 123.3 stays 123.3)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid(field, f"{field} must be a number")
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:  # pragma: no cover - float str() is always valid
        raise invalid(field, f"{field} must be a number") from exc


def as_date(value: object, field: str) -> date:
    """An ISO date string (``YYYY-MM-DD``)."""
    try:
        return parse_date(as_string(value, field))
    except ValueError as exc:
        raise invalid(field, f"{field} must be a date (YYYY-MM-DD)") from exc


def as_datetime(value: object, field: str) -> datetime:
    """An ISO 8601 datetime string."""
    try:
        return parse_datetime(as_string(value, field))
    except ValueError as exc:
        raise invalid(field, f"{field} must be an ISO 8601 datetime") from exc


def as_reference(value: object, field: str, types: tuple[str, ...]) -> dict:
    """A ``{type, id}`` link whose type is one of ``types``."""
    ref = as_object(value, field)
    as_enum(ref.get("type"), f"{field}.type", types)
    as_string(ref.get("id"), f"{field}.id")
    return ref
