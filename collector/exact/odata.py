"""OData as Exact speaks it: the JSON we send, the envelope and pages we get back, and
filter literals (reference §2.2–§2.4)."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from marshmallow import Schema

from collector.exact.errors import MalformedResponse
from collector.exact.schemas import parse_exact_date

log = logging.getLogger(__name__)

# Values per `or` filter: ossobv's batch, which keeps the URL short (§2.3).
BATCH_SIZE = 40
ACCOUNT_CODE_WIDTH = 18  # Code is left-padded with spaces; unpadded filters find nothing


def encode_json(body: Any) -> bytes:
    """JSON for Exact: Decimal as a number (Edm.Double), dates and datetimes as ISO 8601.

    ASCII with ``\\u`` escapes, as bytes: a ``str`` body would go out as Latin-1.
    """
    return json.dumps(body, default=_json_default).encode("ascii")


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        number = float(value)
        # Exact takes doubles; an amount a double cannot carry exactly must not be rounded
        # silently (money has 2 decimals, so this only trips on absurd values).
        if Decimal(repr(number)) != value:
            raise ValueError(f"amount {value} does not fit a double exactly")
        return number
    if isinstance(value, datetime):
        # ossobv's form; a naive datetime is taken to be UTC already.
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def decode_body(content: bytes, endpoint: str) -> Any:
    """Decode a 2xx body with numbers as Decimal, dropping an error object Exact appended.

    Exact now and then appends ``{"error": …}`` after an otherwise normal body (§2.6,
    §11.20): the first JSON value is the answer; a trailing error object is logged and
    dropped; anything else after it is a malformed response.
    """
    text = content.decode("utf-8-sig", errors="replace").strip()
    decoder = json.JSONDecoder(parse_float=Decimal)
    try:
        value, end = decoder.raw_decode(text)
        rest = text[end:].strip()
        if rest:
            trailer = decoder.decode(rest)
            if not (isinstance(trailer, dict) and set(trailer) == {"error"}):
                raise ValueError("unexpected data after the body")
            log.warning("%s: dropped an error object appended to a 2xx body", endpoint)
    except ValueError:
        raise MalformedResponse(f"{endpoint}: body is not JSON", endpoint=endpoint) from None
    return value


def select(schema: type[Schema]) -> str:
    """``$select`` for the properties a schema loads (Exact asks for a select; §2.3)."""
    return ",".join(schema().fields)


def query_string(params: dict | None) -> str:
    """``?…`` for ``params`` as OData likes them: ``%20`` for spaces (not ``+``), ``$``,
    quotes and parentheses left readable; '' without params."""
    if not params:
        return ""
    return "?" + urlencode(params, quote_via=quote, safe="$,'()")


def literal(value: str) -> str:
    """An OData string literal: single quotes, a quote inside doubled."""
    return "'" + str(value).replace("'", "''") + "'"


def guid(value: str | uuid.UUID) -> str:
    """An OData guid literal; rejects anything that is not a GUID (no filter injection)."""
    return f"guid'{uuid.UUID(str(value))}'"


def padded_code(code: str | int) -> str:
    """An account ``Code`` as Exact stores it: left-padded with spaces to 18 characters."""
    code = str(code).strip()
    if not code or len(code) > ACCOUNT_CODE_WIDTH:
        raise ValueError(f"an account code has 1 to {ACCOUNT_CODE_WIDTH} characters")
    return code.rjust(ACCOUNT_CODE_WIDTH)


def chunks(values: Iterable[str], size: int = BATCH_SIZE) -> Iterator[list[str]]:
    """Distinct, non-empty ``values`` in lists of at most ``size``."""
    distinct = list(dict.fromkeys(value for value in values if value))
    for start in range(0, len(distinct), size):
        yield distinct[start : start + size]


def any_of(name: str, literals: Iterable[str]) -> str:
    """``(name eq a or name eq b …)``."""
    return "(" + " or ".join(f"{name} eq {value}" for value in literals) + ")"


def unwrap(payload: Any, endpoint: str) -> Any:
    """The content of Exact's ``{"d": …}`` envelope."""
    if not isinstance(payload, dict) or "d" not in payload:
        raise MalformedResponse(f"{endpoint}: response has no d member", endpoint=endpoint)
    return payload["d"]


def page_of(data: Any, endpoint: str) -> tuple[list, str | None]:
    """``d`` of a list response → (rows, the ``__next`` URL or None)."""
    if isinstance(data, list):  # tolerated: an OData v1 style list without "results"
        return data, None
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        next_url = data.get("__next")
        return data["results"], next_url if isinstance(next_url, str) and next_url else None
    raise MalformedResponse(f"{endpoint}: d holds no results list", endpoint=endpoint)


def row_identity(row: Any) -> Any:
    """What identifies a row for the repeat check: its metadata URI, else the whole row."""
    if isinstance(row, dict):
        metadata = row.get("__metadata")
        if isinstance(metadata, dict) and metadata.get("uri"):
            return metadata["uri"]
        return json.dumps(row, sort_keys=True, default=str)
    return row


_DATE = re.compile(r"^/Date\(-?\d+([+-]\d{4})?\)/$")


def with_dates(value: Any) -> Any:
    """``value`` with every ``"/Date(ms)/"`` string turned into an aware UTC datetime."""
    if isinstance(value, dict):
        return {key: with_dates(item) for key, item in value.items()}
    if isinstance(value, list):
        return [with_dates(item) for item in value]
    if isinstance(value, str) and _DATE.match(value):
        return parse_exact_date(value)
    return value
