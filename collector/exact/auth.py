"""OAuth2 (authorization code) against Exact Online, and the token source the client uses.

Facts (reference §1): every country has its own host, and auth, token and API all live on it;
access tokens last 600 s and ``expires_in`` arrives as a *string*; refresh tokens rotate (the old
one dies at the first use of the new pair) and expire after 30 days; refreshing while the access
token is younger than ~570 s is refused (``TooEarlyToRefreshTokens``), an expired one gives 401.
Exact is also reported to reject an access token in the last ~30 s before ``expires_in``
runs out (its load balancers check the token when the request reaches the API server, not
when it arrives), so a 401 on a token not yet due is answered with one refresh and one retry.
Any refusal of the refresh token itself (``invalid_grant`` in its variants, 401
``unauthorized_client``, an expired refresh token) means a person must connect again.
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

# Refresh once fewer than this remain of the 600 s, i.e. at age 570 s: Exact refuses a refresh
# before about that age (TooEarlyToRefreshTokens) and is reported to reject the access token
# itself from about then on (picqer/exact-php-client#497, PipedreamHQ/pipedream#1655). Our
# age of a token errs young (it is stamped when the answer arrives), so at our 570 s Exact's
# is past its line; a 401 in between is answered with a refresh anyway (``refreshes_early``).
REFRESH_BEFORE_EXPIRY = timedelta(seconds=30)
DEFAULT_EXPIRES_IN = 600
# Token-endpoint errors that refuse the refresh token itself: no retry can help, a person
# must connect again. invalid_grant: unknown, revoked or otherwise dead refresh token (e.g.
# "Token is not allowed, because of invalid or empty chainId", websmurf/laravel-exact-online
# #25); unauthorized_client: "Old refresh token used." (picqer/exact-php-client#640).
REFUSED_GRANT_ERRORS = frozenset({"invalid_grant", "unauthorized_client"})


def host_for(template: str, country: str) -> str:
    """The Exact host of ``country`` (a key of ``COUNTRIES``) from a ``{country}`` template."""
    if country not in COUNTRIES:
        raise ValueError(f"unknown Exact Online country {country!r}")
    return template.replace("{country}", country).rstrip("/")


class ExactOAuth(OAuth2Client):
    """The OAuth2 endpoints of one Exact app (client id/secret, redirect URI) on one host."""

    service = "Exact Online"
    authorize_path, token_path = AUTHORIZE_PATH, TOKEN_PATH
    # A 401 means the token is no longer accepted, due or not (Exact rejects tokens up to ~30 s
    # early): it is refreshed once; should Exact find that too early, the 401 stands.
    rules = TokenRules(DEFAULT_EXPIRES_IN, REFRESH_BEFORE_EXPIRY, refreshes_early=True)
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
        """Any refusal of the refresh token (reused, expired, revoked, unknown): consent again.

        Not a refresh refused as too early (the refresh token still works), nor a refusal of
        our client credentials (``invalid_client``: a setting, not the user's consent).
        """
        if not isinstance(exc, OAuthError) or exc.too_early:
            return False
        if exc.needs_consent or exc.error in REFUSED_GRANT_ERRORS:
            return True
        # A bare 401 of the token endpoint refuses the grant we sent, whatever its body says.
        return exc.status == 401 and exc.error != "invalid_client"

    def refusal_reason(self, exc: Exception) -> str:
        """Exact's own words for a refusal, as the Exact page shows them."""
        description = getattr(exc, "description", None)
        error = getattr(exc, "error", None)
        status = getattr(exc, "status", None)
        code = " ".join(str(part) for part in (f"HTTP {status}" if status else None, error) if part)
        if description:
            return f"{description.strip()[:200]} ({code})" if code else description.strip()[:200]
        return code or str(exc)

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
