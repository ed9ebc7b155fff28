"""Typed errors of the payment provider client, and the one function that maps a response to them.

Mollie answers errors as ``application/hal+json``: ``{"status": 422, "title": "Unprocessable
Entity", "detail": "...", "field": "amount.value", "_links": {...}}``; ``field`` only when one
input is to blame. Bodies are parsed defensively (a proxy's HTML page is an error too).
Messages carry the endpoint, the status, title, detail and field — never a request header,
and any echo of the API key in a body is blanked out.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests

# An upstream error page echoed into ``detail`` must not flood the logs.
MAX_TEXT = 300
REDACTED = "[redacted]"


class ProviderError(Exception):
    """Base class: a provider call failed. ``status`` is the HTTP status (None: no response)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        title: str | None = None,
        detail: str | None = None,
        field: str | None = None,
        endpoint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.detail = detail
        self.field = field
        self.endpoint = endpoint


class AuthError(ProviderError):
    """401: the API key is missing, wrong or revoked."""


class NotFound(ProviderError):
    """404, or 410 Gone: the payment (or the route) does not exist for this key."""


class ValidationFailed(ProviderError):
    """400/422: the provider refused the request data (``field`` names the culprit if known)."""


class RateLimited(ProviderError):
    """429: too many requests; ``retry_after`` is the advised wait in seconds (or None)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class Unavailable(ProviderError):
    """5xx, a network error or a timeout: worth retrying later.

    For ``create_payment`` the outcome is unknown: the payment may exist. Retry with the same
    ``Idempotency-Key`` so a second attempt returns the first payment instead of a new one.
    """


class MalformedResponse(ProviderError):
    """The provider answered 2xx with a body that is not JSON or not the documented shape."""


_BY_STATUS: dict[int, type[ProviderError]] = {
    400: ValidationFailed,
    401: AuthError,
    404: NotFound,
    410: NotFound,
    422: ValidationFailed,
}


def error_from_response(
    response: requests.Response, endpoint: str | None = None, *, redact: tuple[str, ...] = ()
) -> ProviderError:
    """Return the typed error for a non-2xx ``response`` (the caller raises it).

    ``redact`` lists secrets (the API key) to blank out should the body echo them.
    """
    status = response.status_code
    parts = {key: _text(value, redact) for key, value in error_body(response.content).items()}
    message = f"{endpoint or 'provider'}: HTTP {status}"
    message += "".join(f": {parts[key]}" for key in ("title", "detail") if parts[key])
    if parts["field"]:
        message += f" (field {parts['field']})"
    kwargs = {"status": status, "endpoint": endpoint, **parts}
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return RateLimited(message, retry_after=retry_after, **kwargs)
    if status >= 500:
        return Unavailable(message, **kwargs)
    return _BY_STATUS.get(status, ProviderError)(message, **kwargs)


def error_body(content: bytes | str | None) -> dict[str, str | None]:
    """``{title, detail, field}`` from an error body; anything unexpected yields Nones."""
    found: dict[str, str | None] = {"title": None, "detail": None, "field": None}
    try:
        body = json.loads(content) if content else None
    except (ValueError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict):
        for key in found:
            value = body.get(key)
            found[key] = value if isinstance(value, str) and value else None
    return found


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def _text(value: str | None, redact: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    for secret in redact:
        if secret:
            value = value.replace(secret, REDACTED)
    return value[:MAX_TEXT]
