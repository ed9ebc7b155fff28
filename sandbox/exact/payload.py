"""Reading a POST body into typed property values, the way Exact's OData layer does.

A body that is not JSON, an unknown property or a value of the wrong type is a 400
("Error processing request stream. …"); read-only properties are silently ignored (so a
``Type`` on a sales entry has no effect). Amounts become ``Decimal`` (JSON numbers or
numeric strings), dates accept ISO 8601 and ``/Date(ms)/``, binaries must be base64.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from decimal import Decimal, InvalidOperation

from . import errors
from .clock import parse_datetime
from .entities import Entity
from .fields import BINARY, BOOL, DATE, DEFERRED, DOUBLE, GUID, INT

INT32 = (-(2**31), 2**31 - 1)


def read_body(raw: bytes) -> dict:
    """The JSON object of a request body, numbers with fractions as Decimal."""
    try:
        body = json.loads(raw or b"", parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise errors.bad_stream("JSON text specified is not valid.") from exc
    if not isinstance(body, dict):
        raise errors.bad_stream("A top-level object was expected in the request payload.")
    return body


def convert(entity: Entity, body: dict) -> dict:
    """Typed values of the writable properties in ``body`` (deferred ones kept raw)."""
    values = {}
    for name, value in body.items():
        if name == "__metadata":
            continue
        if name not in entity.fields:
            raise errors.bad_stream(
                f"The property '{name}' does not exist on type '{entity.odata_type}'. "
                "Make sure to only use property names that are defined by the type."
            )
        if name in entity.read_only:
            continue
        kind = entity.type_of(name)
        values[name] = value if kind == DEFERRED else coerce(name, kind, value)
    return values


def coerce(name: str, kind: str, value: object) -> object:
    """One value converted to its Edm type, or the conversion error."""
    if value is None:
        return None
    try:
        return CONVERTERS.get(kind, _string)(value)
    except (ValueError, TypeError, InvalidOperation, binascii.Error) as exc:
        raise errors.conversion(name, kind) from exc


def _guid(value: object) -> uuid.UUID:
    if not isinstance(value, str):
        raise TypeError(value)
    return uuid.UUID(value)


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError(value)
    if value != int(value) or not INT32[0] <= int(value) <= INT32[1]:
        raise ValueError(value)
    return int(value)


def _double(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise TypeError(value)
    amount = Decimal(str(value).strip())
    if not amount.is_finite():
        raise ValueError(value)
    return amount


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise TypeError(value)


def _date(value: object):
    if not isinstance(value, str):
        raise TypeError(value)
    return parse_datetime(value)


def _binary(value: object) -> bytes:
    if not isinstance(value, str):
        raise TypeError(value)
    return base64.b64decode(value.encode("ascii"), validate=True)


def _string(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise TypeError(value)
    return str(value)


CONVERTERS = {
    GUID: _guid,
    INT: _int,
    DOUBLE: _double,
    BOOL: _bool,
    DATE: _date,
    BINARY: _binary,
}


def collection(name: str, value: object) -> list[dict]:
    """An inline collection (``[…]`` or ``{"results": […]}``) of objects."""
    if isinstance(value, dict) and isinstance(value.get("results"), list):
        value = value["results"]
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise errors.bad_stream(f"A collection was expected for property '{name}'.")
    return value
