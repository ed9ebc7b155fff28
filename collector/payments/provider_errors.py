"""Typed errors of the payment provider client, and the one function that maps a response to them.

Mollie answers errors as ``application/hal+json``: ``{"status": 422, "title": "Unprocessable
Entity", "detail": "...", "field": "amount.value", "_links": {...}}``; ``field`` only when one
input is to blame. Bodies are parsed defensively (a proxy's HTML page is an error too).
Messages carry the endpoint, the status, title, detail and field — never a request header,
and any echo of the API key in a body is blanked out.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests

from collector.core import http

# An upstream error page echoed into ``detail`` must not flood the logs.
MAX_TEXT = 300
REDACTED = "[redacted]"


class ProviderError(http.HttpError):
    """Base class: a provider call failed. ``status`` is the HTTP status (None: no response);
    ``title``, ``detail`` and ``field`` are the error body's texts (None where absent)."""

    def __init__(self, message: str, *, title=None, detail=None, field=None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.title = title
        self.detail = detail
        self.field = field


class AuthError(ProviderError, http.AuthError):
    """401: the API key is missing, wrong or revoked."""


class NotFound(ProviderError, http.NotFound):
    """404, or 410 Gone: the payment (or the route) does not exist for this key."""


class ValidationFailed(ProviderError, http.ValidationFailed):
    """400/422: the provider refused the request data (``field`` names the culprit if known)."""


class RateLimited(ProviderError, http.RateLimited):
    """429: too many requests; ``retry_after`` is the advised wait in seconds (or None)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class Unavailable(ProviderError, http.Unavailable):
    """5xx, a network error or a timeout: worth retrying later.

    For ``create_payment`` the outcome is unknown (``maybe_applied``): the payment may exist.
    Retry with the same ``Idempotency-Key`` so a second attempt returns the first payment
    instead of a new one.
    """


class MalformedResponse(ProviderError, http.MalformedResponse):
    """The provider answered 2xx with a body that is not JSON or not the documented shape."""


_BY_STATUS: dict[int, type[ProviderError]] = {
    400: ValidationFailed,
    401: AuthError,
    404: NotFound,
    410: NotFound,
    422: ValidationFailed,
    429: RateLimited,
}


def error_from_response(
    response: requests.Response, endpoint: str | None = None, *, redact: tuple[str, ...] = ()
) -> ProviderError:
    """Return the typed error for a non-2xx ``response`` (the caller raises it).

    ``redact`` lists secrets (the API key) to blank out should the body echo them.
    """
    status = response.status_code
    parts = {key: _text(value, redact) for key, value in error_body(response.content).items()}
    message = http.describe(endpoint or "provider", status, parts["title"], parts["detail"])
    if parts["field"]:
        message += f" (field {parts['field']})"
    error_type = http.error_type(status, _BY_STATUS, ProviderError, Unavailable)
    fields = {"status": status, "endpoint": endpoint, **parts}
    if error_type is RateLimited:
        fields["retry_after"] = parse_retry_after(response.headers.get("Retry-After"))
    return error_type(message, **fields)


def error_types(redact: tuple[str, ...] = ()) -> http.ErrorTypes:
    """The provider's errors for the shared transport, blanking ``redact`` out of messages."""
    from_response = functools.partial(error_from_response, redact=redact)
    return http.ErrorTypes(from_response, Unavailable, MalformedResponse)


def error_body(content: bytes | str | None) -> dict[str, str | None]:
    """``{title, detail, field}`` from an error body; anything unexpected yields Nones."""
    found: dict[str, str | None] = {"title": None, "detail": None, "field": None}
    body = http.json_or_none(content)
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
