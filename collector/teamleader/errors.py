"""Typed errors of the Teamleader Focus client, and the one function that maps a response to them.

Teamleader reports errors as ``{"errors": [{"title": ...}, ...]}`` (reference §5). Only
``title`` is documented; ``code``, ``status`` and ``meta`` appear in an internal guideline and
``detail`` nowhere, so bodies are parsed defensively and only titles are kept. Messages carry
the endpoint, the status and the titles — never a request header, so never a token.
"""

from __future__ import annotations

from datetime import UTC, datetime

import requests

from collector.core import http


class TeamleaderError(http.HttpError):
    """Base class: a Teamleader call failed. ``status`` is the HTTP status (None: no
    response), ``titles`` the error titles Teamleader gave."""

    def __init__(self, message: str, *, titles: tuple[str, ...] = (), **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.titles = titles


class AuthError(TeamleaderError, http.AuthError):
    """401: the access token is missing, expired or revoked (and a refresh did not help)."""


class Forbidden(TeamleaderError, http.Forbidden):
    """403: the user or the integration's scopes do not allow this."""


class NotFound(TeamleaderError, http.NotFound):
    """404: the resource does not exist (Teamleader also answers 400 for unknown ids)."""


class ValidationFailed(TeamleaderError, http.ValidationFailed):
    """400/422: Teamleader rejected the request data; retrying the same body will not help."""


class RateLimited(TeamleaderError, http.RateLimited):
    """429: over 200 calls per sliding minute; ``reset_at`` is when a slot frees up (or None)."""


class Unavailable(TeamleaderError, http.Unavailable):
    """5xx, a network error or a timeout: worth retrying later.

    For a call that is not idempotent (``invoices.registerPayment``) the outcome is unknown
    (``maybe_applied``): Teamleader may have applied it before the connection broke. Re-read
    before retrying.
    """


class MalformedResponse(TeamleaderError, http.MalformedResponse):
    """Teamleader answered 2xx with a body that is not JSON or not the documented shape."""


class OAuthError(TeamleaderError):
    """The token endpoint refused a code or refresh token; ``error`` is the OAuth code if given."""

    def __init__(self, message: str, *, error: str | None = None, **kwargs) -> None:
        super().__init__(message, code=error, **kwargs)
        self.error = error


def is_invalid_grant(exc: BaseException) -> bool:
    """True when ``exc`` says the code or refresh token is dead: the user must reconnect."""
    return isinstance(exc, OAuthError) and exc.error == "invalid_grant"


_BY_STATUS: dict[int, type[TeamleaderError]] = {
    400: ValidationFailed,
    401: AuthError,
    403: Forbidden,
    404: NotFound,
    # 422 is not in Teamleader's list of status codes; some SDKs map it, so do we.
    422: ValidationFailed,
    429: RateLimited,
}


def error_from_response(
    response: requests.Response, endpoint: str | None = None
) -> TeamleaderError:
    """Return the typed error for a non-2xx ``response`` (the caller raises it)."""
    status = response.status_code
    titles = error_titles(response.content)
    error_type = http.error_type(status, _BY_STATUS, TeamleaderError, Unavailable)
    fields = {"status": status, "titles": titles, "endpoint": endpoint}
    if error_type is RateLimited:
        fields["reset_at"] = parse_reset(response.headers.get("X-RateLimit-Reset"))
    return error_type(http.describe(endpoint or response.url, status, "; ".join(titles)), **fields)


def error_titles(content: bytes | str | None) -> tuple[str, ...]:
    """Extract ``errors[*].title`` from a body; anything unexpected yields no titles."""
    body = http.json_or_none(content)
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return ()
    titles = (item.get("title") for item in errors if isinstance(item, dict))
    # Cap each title: an error page echoed into a title must not flood the logs.
    return tuple(str(title)[:300] for title in titles if title)


def parse_reset(value: str | None) -> datetime | None:
    """Parse ``X-RateLimit-Reset`` into an aware UTC datetime, or None if absent/unparseable.

    The header is a timestamp, not seconds: ``2021-06-15T10:51:23.035+0100`` — milliseconds
    and an offset without a colon (reference §4). ``fromisoformat`` reads that since 3.11.
    """
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        # The API returns UTC (reference §2); a bare timestamp is read as such.
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


ERRORS = http.ErrorTypes(error_from_response, Unavailable, MalformedResponse)
