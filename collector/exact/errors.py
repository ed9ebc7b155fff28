"""Typed errors of the Exact Online client, and the one function that maps a response to them.

Exact's error body is ``{"error": {"code": "", "message": {"lang": "", "value": "<text>"}}}``;
several messages are joined with ``\\r\\n`` and the text is in the user's language (reference
§2.6). Business validation errors arrive as **HTTP 500**; only Exact's generic "A problem has
occurred…" 500 is an outage (§11.16). Messages carry the endpoint, the status and Exact's text —
never a request header, so never a token.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import requests

from collector.core import clock, http
from collector.core import ratelimit as core_ratelimit
from collector.core.errors import TryLater

# Exact's generic 500 text (fixture rest-error-500-generic.json): an outage, not our data.
GENERIC_PROBLEM = "a problem has occurred"
MESSAGE_CAP = 500  # an error page echoed into a message must not flood the logs
SHOWN_CAP = 300  # a body that is not Exact's JSON is shown up to this many characters


class ExactError(http.HttpError):
    """Base class: an Exact call failed. ``status`` is the HTTP status (None: no response);
    ``reason`` (also ``code``) is Exact's ``Reason`` header when it sent one."""

    def __init__(self, message: str, *, reason: str | None = None, **kwargs) -> None:
        super().__init__(message, code=reason, **kwargs)

    @property
    def reason(self) -> str | None:
        """Exact's ``Reason`` header (``NoDivisionAccess``, ``TooEarlyToRefreshTokens``, …)."""
        return self.code

    @property
    def transient(self) -> bool:
        """Whether the same request may succeed later unchanged (``retryable``)."""
        return self.retryable


class AuthError(ExactError, http.AuthError):
    """401: the access token is missing, expired or revoked (and a refresh did not help)."""


class Forbidden(ExactError, http.Forbidden):
    """403: not allowed; ``reason`` is Exact's ``Reason`` header (``NoDivisionAccess``,
    ``BlockedUser``, ``LicenseExpired``, ``DivisionBlocked``, …)."""


class NotFound(ExactError, http.NotFound):
    """404: the entity or endpoint does not exist."""


class ValidationFailed(ExactError, http.ValidationFailed):
    """Exact refused the request data (a 400, or a 500 carrying a business message).

    ``messages`` holds Exact's messages, split on ``\\r\\n``, in the user's language. Never
    retried: repeating the same body fails again and counts towards Exact's error block (more
    than 10 errors per endpoint per hour block the app, §3).
    """

    def __init__(self, message: str, *, messages: tuple[str, ...] = (), **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.messages = messages


class RateLimited(ExactError, http.RateLimited):
    """429: over the minutely or daily budget; ``reset_at`` is when it resets (or None)."""


DAILY_WHAT = "Exact Online's daily limit"


class DailyLimitReached(core_ratelimit.RateLimited, RateLimited):
    """Exact's daily budget of this administration is spent (``X-RateLimit-Remaining: 0``):
    no call can go before ``reset_at``, so nothing waits for it.

    A ``TryLater`` (a rate limit, which a tracked job always waits for): a job is given back
    and started again after the reset (``runtime.queue.tracked``). An ``ExactError`` (a 429): a
    page shows the message, which says when the limit resets, in UTC and in the company's
    time zone.
    """

    def __init__(
        self, reset_at: datetime, *, status: int | None = 429, endpoint: str | None = None
    ) -> None:
        TryLater.__init__(self, DAILY_WHAT, reset_at.timestamp(), daily_limit_message(reset_at))
        self.reset_at = reset_at
        self.status = status
        self.endpoint = endpoint

    @property
    def waiting(self) -> str:
        """What a run waiting for the reset says: the message itself."""
        return self.message


def daily_limit_message(reset_at: datetime) -> str:
    """ "Exact's daily limit … resets at 00:00 UTC (01:00 in Brussels)": the reset in UTC and
    in the company's time zone (``collector.core.clock``). English: jobs store and log it;
    the Exact page says it in the reader's language (``overview.daily_limit_notice``)."""
    utc = reset_at.astimezone(UTC)
    zone = company_zone()
    local = ""
    if zone is not None:
        city = zone.key.rsplit("/", 1)[-1].replace("_", " ")
        local = f" ({utc.astimezone(zone):%H:%M} in {city})"
    return (
        f"Exact's daily limit for this administration is used up; it resets at "
        f"{utc:%H:%M} UTC{local}."
    )


def company_zone() -> ZoneInfo | None:
    """The company's time zone when it is not UTC (None outside the app: it is a setting)."""
    try:
        zone = clock.zone()
    except RuntimeError:
        return None
    return zone if getattr(zone, "key", "") not in ("", "UTC") else None


class Unavailable(ExactError, http.Unavailable):
    """A connection error, a timeout, 502/503/504 or Exact's generic 500: try again later.

    ``maybe_applied`` is True when a write may have reached Exact before the answer was lost
    (a POST that timed out while reading): Exact has no uniqueness check (§5.6), so look the
    record up before posting it again.
    """


class MalformedResponse(ExactError, http.MalformedResponse):
    """Exact answered 2xx with a body that is not JSON or not the documented shape."""


class OAuthError(ExactError):
    """The token endpoint refused a code or refresh token.

    ``error``/``description`` are the OAuth fields of the body (absent ones are None); the
    properties name the cases the service has to tell apart (reference §1.4–§1.5).
    """

    def __init__(
        self,
        error: str | None,
        description: str | None,
        *,
        status: int | None = None,
        endpoint: str | None = None,
        reason: str | None = None,
    ) -> None:
        message = f"{endpoint or 'token'}: HTTP {status}"
        if error:
            message += f": {error}"
        if description:
            message += f" ({description[:200]})"
        super().__init__(message, status=status, endpoint=endpoint, reason=reason)
        self.error = error
        self.description = description

    @property
    def old_refresh_token(self) -> bool:
        """The refresh token was already used (rotated away): only a new consent helps —
        unless another worker refreshed first, so re-read the stored tokens before giving up."""
        return "old refresh token" in (self.description or "").lower()

    @property
    def too_early(self) -> bool:
        """Refreshed while the access token was younger than ~570 s; the refresh token is
        still valid, so keep using the current access token."""
        return self.reason == "TooEarlyToRefreshTokens" or (
            "access_token not expired" in (self.description or "")
        )

    @property
    def expired_refresh_token(self) -> bool:
        """The refresh token passed its 30 days: the user must authorise again."""
        return bool(re.search(r"refresh token expired", self.description or "", re.IGNORECASE))

    @property
    def needs_consent(self) -> bool:
        """True when no retry can help and the user must connect again."""
        return self.old_refresh_token or self.expired_refresh_token


_BY_STATUS: dict[int, type[ExactError]] = {
    400: ValidationFailed,
    401: AuthError,
    403: Forbidden,
    404: NotFound,
    429: RateLimited,
}


def error_from_response(response: requests.Response, endpoint: str | None = None) -> ExactError:
    """Return the typed error for a non-2xx ``response`` (the caller raises it).

    The message carries what Exact said: its ``error.message.value``, else whatever body it
    sent (a plain-text 400 such as "Bad Request - Error in query syntax.", an HTML page),
    trimmed and with anything token-like blanked (``body_text``).
    """
    status = response.status_code
    text = error_message(response.content)
    shown = text or body_text(response.content)
    # Only Exact's own JSON message makes a 500 a business error: a proxy's HTML 500 is an outage.
    if status == 500 and text and not text.lower().startswith(GENERIC_PROBLEM):
        error_type: type[ExactError] = ValidationFailed  # a business message as a 500 (§11.16)
    else:
        error_type = http.error_type(status, _BY_STATUS, ExactError, Unavailable)
    fields = {"status": status, "endpoint": endpoint, "reason": response.headers.get("Reason")}
    if error_type is ValidationFailed:
        fields["messages"] = split_messages(shown)
    elif error_type is RateLimited:
        daily = daily_reset(response.headers)
        if daily is not None:
            return DailyLimitReached(daily, endpoint=endpoint)
        fields["reset_at"] = reset_from_headers(response.headers)
    return error_type(http.describe(endpoint or "exact", status, shown), **fields)


_VALUE = re.compile(r'"value"\s*:\s*"((?:[^"\\]|\\.)*)')


def error_message(content: bytes | str | None) -> str:
    """Exact's ``error.message.value`` from a body ('' when there is none).

    Bodies are parsed defensively: a truncated body (fixture
    rest-error-400-binding-new-entities-truncated.txt) still yields the text it has.
    """
    if not content:
        return ""
    if isinstance(content, bytes):
        content = content.decode("utf-8", errors="replace")
    try:
        body = json.loads(content)
    except ValueError:
        match = _VALUE.search(content)
        return _unescape(match.group(1))[:MESSAGE_CAP] if match else ""
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    if isinstance(message, dict):
        message = message.get("value")
    return message.strip()[:MESSAGE_CAP] if isinstance(message, str) else ""


_TAG = re.compile(r"<[^>]*>")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_INVISIBLE = re.compile(r"<(script|style|head)[^>]*>.*?</\1>", re.IGNORECASE | re.DOTALL)
# A body must never carry a credential into a message, a log or a page: bearer tokens and
# OAuth fields echoed back (an upstream proxy's debug page could) are blanked.
_SECRET = re.compile(
    r"(?i)(bearer\s+|(?:access_token|refresh_token|client_secret|code|token)[\"']?\s*[:=]\s*[\"']?)"
    r"[^\s\"'&,;}<]+"
)


def body_text(content: bytes | str | None, limit: int = SHOWN_CAP) -> str:
    """Any error body as one line a person can read ('' when empty): JSON as sent, an HTML
    page as its text, whitespace collapsed, cut at ``limit`` characters, tokens blanked."""
    if not content:
        return ""
    if isinstance(content, bytes):
        content = content.decode("utf-8", errors="replace")
    text = content.strip()
    if text.startswith("<"):
        title = _TITLE.search(text)
        body = _TAG.sub(" ", _INVISIBLE.sub(" ", text))
        text = body if body.strip() else (title.group(1) if title else "")
    text = _SECRET.sub(lambda m: m.group(1) + "[hidden]", " ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _unescape(fragment: str) -> str:
    try:
        return json.loads(f'"{fragment}"')
    except ValueError:
        return fragment


def split_messages(text: str) -> tuple[str, ...]:
    """Exact joins several messages with ``\\r\\n``: one entry per message."""
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def parse_epoch_ms(value: str | None) -> datetime | None:
    """An ``X-RateLimit-*-Reset`` value (epoch milliseconds, §3) as an aware UTC datetime.

    Tolerant: values below 1e11 are read as seconds (a proxy in front of Exact — Nango's
    recordings — sends seconds; Exact itself sends milliseconds); junk yields None.
    """
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    if number <= 0:
        return None
    seconds = number if number < 100_000_000_000 else number / 1000
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def daily_reset(headers) -> datetime | None:
    """When the daily budget resets, if the headers say it is spent (else None)."""
    if str(headers.get("X-RateLimit-Remaining", "")).strip() != "0":
        return None
    return parse_epoch_ms(headers.get("X-RateLimit-Reset"))


def reset_from_headers(headers) -> datetime | None:
    """When a 429 ends: the daily reset when the daily budget is spent, else the minutely one.

    On a minutely 429 Exact sends only the minutely headers; sometimes none at all (§3).
    """
    if str(headers.get("X-RateLimit-Remaining", "")).strip() == "0":
        daily = parse_epoch_ms(headers.get("X-RateLimit-Reset"))
        if daily is not None:
            return daily
    return parse_epoch_ms(headers.get("X-RateLimit-Minutely-Reset"))


ERRORS = http.ErrorTypes(error_from_response, Unavailable, MalformedResponse)
