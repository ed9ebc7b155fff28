"""Marshmallow fields and loading every API client here shares (Teamleader, Exact Online,
the payment provider)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import Schema, ValidationError, fields

_SCHEMAS: dict[type[Schema], Schema] = {}


def load_with(
    schema: type[Schema],
    data: Any,
    endpoint: str,
    malformed: Callable[..., Exception],
    *,
    many: bool = False,
) -> Any:
    """Load ``data`` through ``schema`` (one instance per class); a shape we cannot read
    raises ``malformed(message, endpoint=endpoint)`` naming the paths, never the values."""
    instance = _SCHEMAS.get(schema) or _SCHEMAS.setdefault(schema, schema())
    try:
        return instance.load(data, many=many)
    except ValidationError as exc:
        paths = sorted(_error_paths(exc.messages))[:10]
        raise malformed(f"{endpoint}: unexpected shape at {paths}", endpoint=endpoint) from None


def _error_paths(messages: Any, prefix: str = "") -> Iterator[str]:
    """Flatten marshmallow's nested error dict into dotted paths (values are not echoed)."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from _error_paths(value, f"{prefix}{key}.")
    else:
        yield prefix.rstrip(".") or "<root>"


def nullable(field_cls: type[fields.Field], *args, **kwargs) -> fields.Field:
    """A field that may be null or absent (loaded as None)."""
    kwargs.setdefault("load_default", None)
    return field_cls(*args, allow_none=True, **kwargs)


def to_decimal(value: object) -> Decimal:
    """Convert a JSON number (Decimal/int, or a numeric string) to Decimal; reject floats/bools."""
    if isinstance(value, bool | float):
        raise ValueError("not an exact number")
    try:
        result = Decimal(str(value)) if isinstance(value, int | str) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError("not a number") from None
    if not result.is_finite():
        raise ValueError("not a finite number")
    return result


class Number(fields.Field):
    """A JSON number (bodies are decoded as Decimal or int, never float) → ``Decimal``."""

    default_error_messages = {"invalid": "Not a valid number."}

    def _deserialize(self, value, attr, data, **kwargs) -> Decimal:
        try:
            return to_decimal(value)
        except ValueError:
            raise self.make_error("invalid") from None


class ParsedString(fields.Field):
    """A string read by ``parse``; a string it refuses (one of ``refused``) or any other
    value is invalid."""

    default_error_messages = {"invalid": "Not a valid value."}
    refused: tuple[type[Exception], ...] = (ValueError,)

    def parse(self, value: str) -> Any:
        raise NotImplementedError

    def _deserialize(self, value, attr, data, **kwargs) -> Any:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            return self.parse(value)
        except self.refused:
            raise self.make_error("invalid") from None


class UtcDateTime(ParsedString):
    """ISO 8601 datetime → aware ``datetime`` in UTC; a missing offset is read as UTC."""

    default_error_messages = {"invalid": "Not a valid ISO 8601 datetime."}

    def parse(self, value: str) -> datetime:
        return utc_from_iso(value)


def utc_from_iso(value: str) -> datetime:
    """An ISO 8601 datetime as an aware ``datetime`` in UTC; without an offset it is read
    as UTC. ValueError when it is not ISO 8601."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
