"""OAuth2 (authorization code) against Teamleader Focus, and the token source the client uses.

Facts (reference §1): the authorize and token URLs live on the *auth* host
(``https://focus.teamleader.eu``), not on the API host; access tokens last ``expires_in``
seconds (usually 3600); refresh tokens are single use — every refresh returns a new pair and
the old refresh token is dead. Serialising refreshes per connection is the token source's job
(``collector.runtime.oauth_connection`` does it against the database with a lock).
"""

from __future__ import annotations

from datetime import timedelta

import requests

from collector.core.oauth import ClientErrors, OAuth2Client, TokenRules, refusal_message
from collector.core.oauth import TokenPair as TokenPair
from collector.core.tokens import StaticTokenSource as BaseStaticTokenSource
from collector.teamleader.errors import (
    AuthError,
    MalformedResponse,
    OAuthError,
    TeamleaderError,
    Unavailable,
    is_invalid_grant,
)

AUTHORIZE_PATH = "/oauth2/authorize"
TOKEN_PATH = "/oauth2/access_token"  # noqa: S105 (a URL path, not a secret)

# Refresh this long before Teamleader expires a token, so a call started just before expiry
# does not arrive just after it (clock skew, request latency, retries).
EXPIRY_MARGIN = timedelta(seconds=60)


class TeamleaderOAuth(OAuth2Client):
    """The OAuth2 endpoints of one Teamleader integration (client id/secret, redirect URI)."""

    service = "Teamleader"
    authorize_path, token_path = AUTHORIZE_PATH, TOKEN_PATH
    # Access tokens last an hour. Teamleader has no "too early" rule: a token it refused is
    # simply refreshed.
    rules = TokenRules(3600, EXPIRY_MARGIN, refreshes_early=True)
    errors = ClientErrors(TeamleaderError, AuthError, OAuthError, Unavailable, MalformedResponse)

    def needs_reconnect(self, exc: Exception) -> bool:
        """Teamleader's refusal bodies are undocumented (§5): any 400/401 means the pair is dead."""
        return is_invalid_grant(exc) or getattr(exc, "status", None) in (400, 401)

    def describe(self, exc: Exception) -> str:
        return getattr(exc, "error", None) or str(exc)

    def _refused(
        self, response: requests.Response, error: str | None, description: str | None
    ) -> OAuthError:
        # The usual OAuth {"error", "error_description"} if present, else only the status.
        message = refusal_message(TOKEN_PATH, response.status_code, error, description)
        return OAuthError(message, error=error, status=response.status_code, endpoint=TOKEN_PATH)


class StaticTokenSource(BaseStaticTokenSource):
    """A fixed access token, for scripts and tests; it cannot refresh."""

    refused = AuthError
