"""Marshmallow fields every API client here shares (Teamleader, the payment provider)."""

from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import fields


def nullable(field_cls: type[fields.Field], *args, **kwargs) -> fields.Field:
    """A field that may be null or absent (loaded as None)."""
    kwargs.setdefault("load_default", None)
    return field_cls(*args, allow_none=True, **kwargs)


class UtcDateTime(fields.Field):
    """ISO 8601 datetime → aware ``datetime`` in UTC; a missing offset is read as UTC."""

    default_error_messages = {"invalid": "Not a valid ISO 8601 datetime."}

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise self.make_error("invalid") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
