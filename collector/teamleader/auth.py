"""OAuth2 (authorization code) against Teamleader Focus, and the token source the client uses.

Facts (reference §1): the authorize and token URLs live on the *auth* host
(``https://focus.teamleader.eu``), not on the API host; access tokens last ``expires_in``
seconds (usually 3600); refresh tokens are single use — every refresh returns a new pair and
the old refresh token is dead. Serialising refreshes per connection is the token source's job
(the service implements it against the database with a lock).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import requests

from collector.core.tokens import StaticTokenSource as BaseStaticTokenSource
from collector.teamleader.errors import AuthError, MalformedResponse, OAuthError, Unavailable

AUTHORIZE_PATH = "/oauth2/authorize"
TOKEN_PATH = "/oauth2/access_token"  # noqa: S105 (a URL path, not a secret)

# Treat a token as expired this long before Teamleader does, so a call started just before
# expiry does not arrive just after it (clock skew, request latency, retries).
EXPIRY_MARGIN = timedelta(seconds=60)


class StaticTokenSource(BaseStaticTokenSource):
    """A fixed access token, for scripts and tests; it cannot refresh."""

    refused = AuthError


@dataclass(frozen=True)
class TokenPair:
    """Tokens from the token endpoint. ``expires_at`` already includes ``EXPIRY_MARGIN``."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime

    def expired(self, now: datetime | None = None) -> bool:
        """True once the access token should no longer be used."""
        return (now or datetime.now(UTC)) >= self.expires_at


class TeamleaderOAuth:
    """The OAuth2 endpoints of one Teamleader integration (client id/secret, redirect URI)."""

    def __init__(
        self,
        session: requests.Session,
        auth_base_url: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        *,
        timeout: float | tuple[float, float] = (5, 30),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._session = session
        self._base = auth_base_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._redirect_uri = redirect_uri
        self._timeout = timeout
        self._clock = clock

    def __repr__(self) -> str:
        return f"TeamleaderOAuth({self._base!r}, client_id={self._client_id!r})"

    def authorize_url(self, state: str) -> str:
        """Return the URL to send the user to; Teamleader comes back with ``code`` and ``state``."""
        query = urlencode(
            {
                "client_id": self._client_id,
                "response_type": "code",
                "redirect_uri": self._redirect_uri,
                "state": state,
            }
        )
        return f"{self._base}{AUTHORIZE_PATH}?{query}"

    def exchange_code(self, code: str) -> TokenPair:
        """Trade an authorization code (single use, valid 10 minutes) for a token pair."""
        return self._token_request(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": self._redirect_uri}
        )

    def refresh(self, refresh_token: str) -> TokenPair:
        """Trade a refresh token for a new pair; the old refresh token is dead afterwards."""
        return self._token_request({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def _token_request(self, grant: dict[str, str]) -> TokenPair:
        # Never retried: a refresh that reached Teamleader but whose answer we lost has already
        # burnt the refresh token, and retrying it would only turn that into invalid_grant.
        body = {"client_id": self._client_id, "client_secret": self._client_secret, **grant}
        url = f"{self._base}{TOKEN_PATH}"
        try:
            response = self._session.post(url, data=body, timeout=self._timeout)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise Unavailable(f"{TOKEN_PATH}: {type(exc).__name__}") from None
        if response.status_code >= 500:
            raise Unavailable(
                f"{TOKEN_PATH}: HTTP {response.status_code}", status=response.status_code
            )
        if not response.ok:
            raise _oauth_error(response)
        return self._token_pair(response)

    def _token_pair(self, response: requests.Response) -> TokenPair:
        try:
            body = json.loads(response.content)
            expires_in = int(body.get("expires_in") or 3600)
            pair = TokenPair(
                access_token=str(body["access_token"]),
                refresh_token=str(body["refresh_token"]),
                expires_at=self._clock() + timedelta(seconds=expires_in) - EXPIRY_MARGIN,
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            raise MalformedResponse(
                f"{TOKEN_PATH}: unexpected token response", status=response.status_code
            ) from None
        return pair


def _oauth_error(response: requests.Response) -> OAuthError:
    """Map a 4xx from the token endpoint. Its body is undocumented (reference §5): read the
    usual OAuth ``{"error", "error_description"}`` if present, else report only the status."""
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        body = None
    error = description = None
    if isinstance(body, dict):
        error = body.get("error") if isinstance(body.get("error"), str) else None
        description = body.get("error_description")
    message = f"{TOKEN_PATH}: HTTP {response.status_code}"
    if error:
        message += f": {error}"
    if isinstance(description, str) and description:
        message += f" ({description[:200]})"
    return OAuthError(message, error=error, status=response.status_code, endpoint=TOKEN_PATH)
