"""OAuth2 (authorization code) against Exact Online, and the token source the client uses.

Facts (reference §1): every country has its own host, and auth, token and API all live on it;
access tokens last 600 s and ``expires_in`` arrives as a *string*; refresh tokens rotate (the old
one dies at the first use of the new pair) and expire after 30 days; refreshing while the access
token is younger than ~570 s is refused (``TooEarlyToRefreshTokens``), an expired one gives 401.
Serialising refreshes per connection is the token source's job (the service does it with a lock
and a re-read of the stored tokens).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote, urlencode

import requests

from collector.core.tokens import StaticTokenSource as BaseStaticTokenSource
from collector.exact.errors import AuthError, MalformedResponse, OAuthError, Unavailable

COUNTRIES = {
    "nl": "Netherlands",
    "be": "Belgium",
    "de": "Germany",
    "co.uk": "United Kingdom",
    "com": "United States",
    "es": "Spain",
    "fr": "France",
}

AUTHORIZE_PATH = "/api/oauth2/auth"
TOKEN_PATH = "/api/oauth2/token"  # noqa: S105 (a URL path, not a secret)

# Refresh once fewer than this remain of the 600 s: at age 575 s we are 5 s clear of Exact's
# ~570 s too-early line, and 25 s leave room for a request in flight (Exact's load balancers
# reject a token that expires during a request, §1.4).
REFRESH_BEFORE_EXPIRY = timedelta(seconds=25)
DEFAULT_EXPIRES_IN = 600


def utcnow() -> datetime:
    """Current time, aware, in UTC."""
    return datetime.now(UTC)


def host_for(template: str, country: str) -> str:
    """The Exact host of ``country`` (a key of ``COUNTRIES``) from a ``{country}`` template."""
    if country not in COUNTRIES:
        raise ValueError(f"unknown Exact Online country {country!r}")
    return template.replace("{country}", country).rstrip("/")


class StaticTokenSource(BaseStaticTokenSource):
    """A fixed access token, for scripts and tests; it cannot refresh."""

    refused = AuthError


@dataclass(frozen=True)
class TokenPair:
    """Tokens from the token endpoint; ``expires_at = issued_at + expires_in``."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    issued_at: datetime
    expires_at: datetime

    def refresh_due(self, now: datetime | None = None) -> bool:
        """True once fewer than ``REFRESH_BEFORE_EXPIRY`` remain (age ≥ 575 s of 600)."""
        return (now or utcnow()) >= self.expires_at - REFRESH_BEFORE_EXPIRY

    def expired(self, now: datetime | None = None) -> bool:
        """True once Exact no longer accepts the access token."""
        return (now or utcnow()) >= self.expires_at


class ExactOAuth:
    """The OAuth2 endpoints of one Exact app (client id/secret, redirect URI) on one host."""

    def __init__(
        self,
        session: requests.Session,
        host: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        *,
        timeout: float | tuple[float, float] = (5, 30),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._session = session
        self._host = host.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._redirect_uri = redirect_uri
        self._timeout = timeout
        self._clock = clock

    def __repr__(self) -> str:
        return f"ExactOAuth({self._host!r}, client_id={self._client_id!r})"

    def authorize_url(self, state: str, force_login: bool = False) -> str:
        """The URL to send the user to; Exact comes back with ``code`` (valid 3 minutes)."""
        query = {
            "client_id": self._client_id,
            "redirect_uri": self._redirect_uri,
            "response_type": "code",
            "state": state,
        }
        if force_login:
            query["force_login"] = "1"
        return f"{self._host}{AUTHORIZE_PATH}?{urlencode(query)}"

    def exchange_code(self, code: str) -> TokenPair:
        """Trade an authorization code (single use) for a token pair."""
        # Exact wants the code URL-decoded (%21 → !, §1.2). Codes never contain a literal '%',
        # so one still encoded (e.g. copied from a raw query string) is decoded here.
        if "%" in code:
            code = unquote(code)
        return self._token_request(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": self._redirect_uri}
        )

    def refresh(self, refresh_token: str) -> TokenPair:
        """Trade a refresh token for a new pair; the old refresh token dies with it."""
        return self._token_request({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def _token_request(self, grant: dict[str, str]) -> TokenPair:
        # Never retried: a refresh that reached Exact but whose answer we lost has already
        # rotated the refresh token, and a retry would only turn that into "Old refresh token".
        body = {**grant, "client_id": self._client_id, "client_secret": self._client_secret}
        try:
            response = self._session.post(
                f"{self._host}{TOKEN_PATH}",
                data=body,
                headers={"Accept": "application/json"},
                timeout=self._timeout,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            sent = not isinstance(exc, requests.ConnectTimeout)
            raise Unavailable(
                f"{TOKEN_PATH}: {type(exc).__name__}", endpoint=TOKEN_PATH, maybe_applied=sent
            ) from None
        if response.status_code >= 500:
            raise Unavailable(
                f"{TOKEN_PATH}: HTTP {response.status_code}",
                status=response.status_code,
                endpoint=TOKEN_PATH,
            )
        if not response.ok:
            raise _oauth_error(response)
        # Read the clock after the answer: Exact issued the token before that, so our idea of its
        # age errs young and we never cross the too-early line (the 25 s cover the other side).
        return _token_pair(response, self._clock())


def _token_pair(response: requests.Response, issued_at: datetime) -> TokenPair:
    try:
        body = json.loads(response.content)
        # expires_in is a string ("600") in Exact's answers (§1.3).
        expires_in = int(body.get("expires_in") or DEFAULT_EXPIRES_IN)
        return TokenPair(
            access_token=_text(body["access_token"]),
            refresh_token=_text(body["refresh_token"]),
            issued_at=issued_at,
            expires_at=issued_at + timedelta(seconds=expires_in),
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        raise MalformedResponse(
            f"{TOKEN_PATH}: unexpected token response",
            status=response.status_code,
            endpoint=TOKEN_PATH,
        ) from None


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("not a token")
    return value


def _oauth_error(response: requests.Response) -> OAuthError:
    """Map a 4xx of the token endpoint: ``{"error", "error_description"}`` plus ``Reason``."""
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        body = None
    error = description = None
    if isinstance(body, dict):
        error = body.get("error") if isinstance(body.get("error"), str) else None
        described = body.get("error_description")
        description = described if isinstance(described, str) else None
    return OAuthError(
        error,
        description,
        status=response.status_code,
        endpoint=TOKEN_PATH,
        reason=response.headers.get("Reason"),
    )
