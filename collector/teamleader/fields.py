"""Marshmallow fields for Teamleader's value shapes: Money, links, UTC datetimes, options.

Bodies are decoded with ``parse_float=Decimal`` (see ``transport.decode_json``), so amounts arrive
as ``Decimal`` or ``int`` and never pass through a float.
"""

from __future__ import annotations

from decimal import Decimal

from marshmallow import fields

# Teamleader sends empty scalars as null and times with or without an offset (§2).
from collector.core.fields import (  # noqa: F401  (re-exported)
    Number,
    UtcDateTime,
    nullable,
    to_decimal,
)


def listing(inner: fields.Field, **kwargs) -> fields.List:
    """A list field that loads a missing or null list as ``[]`` (the API sends ``[]``, §2)."""
    return EmptyList(inner, load_default=list, allow_none=True, **kwargs)


class EmptyList(fields.List):
    """A list where null loads as ``[]``, so callers can always iterate."""

    def deserialize(self, value, attr=None, data=None, **kwargs):
        if value is None:
            return []
        return super().deserialize(value, attr, data, **kwargs)


class Money(fields.Field):
    """A Money object ``{amount, currency}`` → its amount as ``Decimal``.

    The currency is read once per total by ``TotalSchema`` (all Money of one document share it).
    """

    default_error_messages = {"invalid": "Not a valid Money object."}

    def _deserialize(self, value, attr, data, **kwargs) -> Decimal:
        if not isinstance(value, dict):
            raise self.make_error("invalid")
        try:
            return to_decimal(value.get("amount"))
        except ValueError:
            raise self.make_error("invalid") from None


class Ref(fields.Field):
    """A link ``{type, id}`` → the id string."""

    default_error_messages = {"invalid": "Not a valid {type, id} link."}

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        if not isinstance(value, dict) or not isinstance(value.get("id"), str):
            raise self.make_error("invalid")
        return value["id"]


class Option(fields.Field):
    """A custom field option → ``{"id", "value"}``.

    Options are ``{id, value}`` objects since API version 2023-09-26 and plain strings before
    (reference §9); a string loads as ``{"id": None, "value": <string>}``.
    """

    default_error_messages = {"invalid": "Not a valid custom field option."}

    def _deserialize(self, value, attr, data, **kwargs) -> dict:
        if isinstance(value, str):
            return {"id": None, "value": value}
        if isinstance(value, dict) and isinstance(value.get("value"), str):
            option_id = value.get("id")
            return {
                "id": option_id if isinstance(option_id, str) else None,
                "value": value["value"],
            }
        raise self.make_error("invalid")
