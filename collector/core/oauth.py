"""OAuth2 with the authorization code, as Teamleader and Exact Online both speak it.

The user is sent to the service's authorize URL with a ``state``; the service comes back with
a single-use ``code``, traded at the token endpoint for a token pair. Refresh tokens are single
use on both services: every refresh returns a new pair and the old refresh token is dead, so a
refresh is never retried and is serialised per connection by whoever stores the pair.

What differs between the services is data on a subclass of ``OAuth2Client``: its paths, its
``TokenRules`` (the default lifetime, how long before expiry to refresh, whether a token not yet
due may be refreshed) and the typed errors of its client. No Flask, no database.
"""

from __future__ import annotations

import enum
import hmac
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import ClassVar
from urllib.parse import urlencode

import requests

from collector.core import clock as core_clock

STATE_BYTES = 32
# Standing in for a time a row does not hold: a token of unknown age is due for refresh.
LONG_AGO = datetime(1970, 1, 1, tzinfo=UTC)


def utcnow() -> datetime:
    """The one clock (``core.clock.now``), aware, in UTC: what token answers are dated by.

    The same clock the token sources compare expiry with: a pair stamped on another clock
    (the wall clock while the tests freeze or move ``core.clock``) would look older or
    younger than it is, and be refreshed too early or used too late.
    """
    return core_clock.now()


class ConnectionStatus(enum.StrEnum):
    """Where a stored OAuth connection stands."""

    CONNECTED = "connected"
    RECONNECT_NEEDED = "reconnect"  # the refresh token was refused: a user must connect again
    DISCONNECTED = "disconnected"


@dataclass(frozen=True)
class TokenRules:
    """How one service's access tokens age, as data."""

    expires_in: int  # seconds, when the token answer names no lifetime
    refresh_margin: timedelta  # refresh once fewer than this remain before expiry
    # May a token that is not yet due be refreshed (after the service refused it)?
    refreshes_early: bool


@dataclass(frozen=True)
class TokenPair:
    """Tokens from a token endpoint, with one expiry rule for every service.

    ``expires_at = issued_at + expires_in``: the moment the service stops accepting the access
    token. ``refresh_margin`` is how long before that the pair is due for a refresh; each
    service gives its own (``TokenRules.refresh_margin``).
    """

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    issued_at: datetime
    expires_at: datetime
    refresh_margin: timedelta

    @classmethod
    def issued(
        cls,
        access_token: str,
        refresh_token: str,
        issued_at: datetime,
        expires_in: int,
        refresh_margin: timedelta,
    ) -> TokenPair:
        """The pair a token endpoint handed out at ``issued_at``, valid ``expires_in`` seconds."""
        expires_at = issued_at + timedelta(seconds=expires_in)
        return cls(access_token, refresh_token, issued_at, expires_at, refresh_margin)

    def refresh_due(self, now: datetime | None = None) -> bool:
        """True once fewer than ``refresh_margin`` remain before expiry."""
        return (now or utcnow()) + self.refresh_margin >= self.expires_at

    def expired(self, now: datetime | None = None) -> bool:
        """True once the service no longer accepts the access token."""
        return (now or utcnow()) >= self.expires_at


def new_state() -> str:
    """An unguessable ``state`` for one authorization round trip."""
    return secrets.token_urlsafe(STATE_BYTES)


def state_matches(expected: str, given: str) -> bool:
    """Compare a returned ``state`` with the one sent, in constant time."""
    return hmac.compare_digest(given.encode(), expected.encode())


@dataclass(frozen=True)
class ClientErrors:
    """The typed errors of one API client that its OAuth endpoints raise."""

    base: type[Exception]  # every error of the client
    auth: type[Exception]  # an access token refused (401)
    refused: type[Exception]  # the token endpoint refused a code or refresh token (4xx)
    unavailable: type[Exception]  # 5xx, a network error, a timeout
    malformed: type[Exception]  # a 2xx that is not a token answer


def refusal_message(path: str, status: int, error: str | None, description: str | None) -> str:
    """How a refusal of the token endpoint reads: never with a token or the client secret."""
    message = f"{path}: HTTP {status}"
    if error:
        message += f": {error}"
    if description:
        message += f" ({description[:200]})"
    return message


class OAuth2Client:
    """The authorization-code grant of one app (client id and secret, redirect URI) on one
    host. Subclasses name the service's paths, token rules and typed errors."""

    service: ClassVar[str]  # the name people know the service by
    authorize_path: ClassVar[str]
    token_path: ClassVar[str]
    rules: ClassVar[TokenRules]
    errors: ClassVar[ClientErrors]
    token_headers: ClassVar[Mapping[str, str]] = {}

    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        *,
        timeout: float | tuple[float, float] = (5, 30),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._redirect_uri = redirect_uri
        self._timeout = timeout
        self._clock = clock

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._base!r}, client_id={self._client_id!r})"

    def authorize_url(self, state: str, **extra: str) -> str:
        """The URL to send the user to; the service comes back with ``code`` and ``state``."""
        query = {
            "client_id": self._client_id,
            "redirect_uri": self._redirect_uri,
            "response_type": "code",
            "state": state,
            **extra,
        }
        return f"{self._base}{self.authorize_path}?{urlencode(query)}"

    def exchange_code(self, code: str) -> TokenPair:
        """Trade an authorization code (single use, valid minutes) for a token pair."""
        return self._token_request(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": self._redirect_uri}
        )

    def refresh(self, refresh_token: str) -> TokenPair:
        """Trade a refresh token for a new pair; the old refresh token is dead afterwards."""
        return self._token_request({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def needs_reconnect(self, exc: Exception) -> bool:
        """True when a refusal means no retry can help: a user must connect again."""
        raise NotImplementedError

    def too_early(self, exc: Exception) -> bool:
        """True when a refresh was refused only because the access token is still young."""
        return False

    def describe(self, exc: Exception) -> str:
        """A refusal of the code, as the person connecting is told it."""
        return str(exc)

    def _token_request(self, grant: dict[str, str]) -> TokenPair:
        # Never retried: a refresh that reached the service but whose answer we lost has
        # already burnt the refresh token, and a retry would only be refused as a reused one.
        body = {**grant, "client_id": self._client_id, "client_secret": self._client_secret}
        try:
            response = self._session.post(
                f"{self._base}{self.token_path}",
                data=body,
                headers=dict(self.token_headers),
                timeout=self._timeout,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise self._unreachable(exc) from None
        if response.status_code >= 500:
            message = f"{self.token_path}: HTTP {response.status_code}"
            raise self.errors.unavailable(
                message, status=response.status_code, endpoint=self.token_path
            )
        if not response.ok:
            raise self._refused(response, *_oauth_fields(response))
        # Read the clock after the answer: the service issued the token before that, so our
        # idea of its age errs young and a refresh is never asked for too early.
        return self._token_pair(response, self._clock())

    def _token_pair(self, response: requests.Response, issued_at: datetime) -> TokenPair:
        try:
            body = json.loads(response.content)
            # Exact sends expires_in as a string ("600"), Teamleader as a number.
            expires_in = int(body.get("expires_in") or self.rules.expires_in)
            return TokenPair.issued(
                _text(body["access_token"]),
                _text(body["refresh_token"]),
                issued_at,
                expires_in,
                self.rules.refresh_margin,
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            raise self.errors.malformed(
                f"{self.token_path}: unexpected token response",
                status=response.status_code,
                endpoint=self.token_path,
            ) from None

    def _unreachable(self, exc: requests.RequestException) -> Exception:
        """The error for a token request that got no answer."""
        message = f"{self.token_path}: {type(exc).__name__}"
        return self.errors.unavailable(message, endpoint=self.token_path)

    def _refused(
        self, response: requests.Response, error: str | None, description: str | None
    ) -> Exception:
        """The client's typed error for a 4xx of the token endpoint."""
        raise NotImplementedError


def _oauth_fields(response: requests.Response) -> tuple[str | None, str | None]:
    """The OAuth ``error`` and ``error_description`` of a refusal, where the body has them."""
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None, None
    if not isinstance(body, dict):
        return None, None
    error, description = body.get("error"), body.get("error_description")
    return (
        error if isinstance(error, str) else None,
        description if isinstance(description, str) else None,
    )


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("not a token")
    return value
