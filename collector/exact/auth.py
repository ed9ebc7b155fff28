"""OAuth2 (authorization code) against Exact Online, and the token source the client uses.

Facts (reference §1): every country has its own host, and auth, token and API all live on it;
access tokens last 600 s and ``expires_in`` arrives as a *string*; refresh tokens rotate (the old
one dies at the first use of the new pair) and expire after 30 days; refreshing while the access
token is younger than ~570 s is refused (``TooEarlyToRefreshTokens``), an expired one gives 401.
Serialising refreshes per connection is the token source's job (``collector.runtime.
oauth_connection`` does it with a lock and a re-read of the stored tokens).
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import unquote

import requests

from collector.core.oauth import ClientErrors, OAuth2Client, TokenRules
from collector.core.oauth import TokenPair as TokenPair
from collector.core.oauth import utcnow as utcnow
from collector.core.tokens import StaticTokenSource as BaseStaticTokenSource
from collector.exact.errors import (
    AuthError,
    ExactError,
    MalformedResponse,
    OAuthError,
    Unavailable,
)

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


def host_for(template: str, country: str) -> str:
    """The Exact host of ``country`` (a key of ``COUNTRIES``) from a ``{country}`` template."""
    if country not in COUNTRIES:
        raise ValueError(f"unknown Exact Online country {country!r}")
    return template.replace("{country}", country).rstrip("/")


class ExactOAuth(OAuth2Client):
    """The OAuth2 endpoints of one Exact app (client id/secret, redirect URI) on one host."""

    service = "Exact Online"
    authorize_path, token_path = AUTHORIZE_PATH, TOKEN_PATH
    # Exact refuses a refresh while the access token is younger than ~570 s (§1.4): a token
    # refused before its refresh is due is reported, not refreshed.
    rules = TokenRules(DEFAULT_EXPIRES_IN, REFRESH_BEFORE_EXPIRY, refreshes_early=False)
    errors = ClientErrors(ExactError, AuthError, OAuthError, Unavailable, MalformedResponse)
    token_headers = {"Accept": "application/json"}

    def authorize_url(self, state: str, force_login: bool = False) -> str:
        """The URL to send the user to; Exact comes back with ``code`` (valid 3 minutes)."""
        return super().authorize_url(state, **({"force_login": "1"} if force_login else {}))

    def exchange_code(self, code: str) -> TokenPair:
        """Trade an authorization code (single use) for a token pair."""
        # Exact wants the code URL-decoded (%21 → !, §1.2). Codes never contain a literal '%',
        # so one still encoded (e.g. copied from a raw query string) is decoded here.
        return super().exchange_code(unquote(code) if "%" in code else code)

    def needs_reconnect(self, exc: Exception) -> bool:
        """A reused ("Old refresh token used") or expired refresh token: consent again."""
        return bool(getattr(exc, "needs_consent", False))

    def too_early(self, exc: Exception) -> bool:
        return bool(getattr(exc, "too_early", False))

    def _unreachable(self, exc: requests.RequestException) -> Unavailable:
        # Only a connect timeout surely never reached Exact; otherwise the refresh token may
        # have rotated before the answer was lost.
        sent = not isinstance(exc, requests.ConnectTimeout)
        message = f"{TOKEN_PATH}: {type(exc).__name__}"
        return Unavailable(message, endpoint=TOKEN_PATH, maybe_applied=sent)

    def _refused(
        self, response: requests.Response, error: str | None, description: str | None
    ) -> OAuthError:
        # Exact names some refusals only in its ``Reason`` header (TooEarlyToRefreshTokens).
        return OAuthError(
            error,
            description,
            status=response.status_code,
            endpoint=TOKEN_PATH,
            reason=response.headers.get("Reason"),
        )


class StaticTokenSource(BaseStaticTokenSource):
    """A fixed access token, for scripts and tests; it cannot refresh."""

    refused = AuthError
