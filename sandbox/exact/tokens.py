"""OAuth grants: authorization codes, access tokens and single-use refresh tokens.

Reference §1: a code lives CODE_TTL (3 min) and works once; access tokens live 600 s;
every refresh rotates the refresh token and the old one then answers 401 "Old refresh token
used."; refreshing while the current access token is younger than REFRESH_MIN_AGE (~570 s)
is refused with ``Reason: TooEarlyToRefreshTokens`` (the refresh token stays valid); a
refresh token dies REFRESH_TOKEN_TTL (30 days) after it was issued. Ages run on the
emulator clock. Grants are bound to the country host that issued them.

Like Exact, an access token is refused (401) in the last REJECT_BEFORE_EXPIRY (30 s) of its
life already: Exact's load balancers check it when the request reaches the API server
(picqer/exact-php-client#497; PipedreamHQ/pipedream#1655 logs 401s in the last minute). A
client that waits for ``expires_in`` to run out, or does not answer a 401 with a refresh,
fails here as it would there.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from .clock import dotnet_stamp
from .state import Store

REJECT_BEFORE_EXPIRY = timedelta(seconds=30)


class OAuthError(Exception):
    """A token-endpoint error: ``{"error", "error_description"}`` plus headers."""

    def __init__(self, status: int, error: str, description: str, reason: str = "") -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description
        self.headers = {"Reason": reason} if reason else {}


def _token(prefix_len: int, body_len: int) -> str:
    # Exact's codes and refresh tokens carry a '!' (it must be URL-decoded, reference §1.2).
    return f"{secrets.token_urlsafe(prefix_len)}!IAAAA{secrets.token_urlsafe(body_len)}"


def issue_code(store: Store, grant: dict) -> str:
    """A new single-use code; ``grant`` holds client_id, redirect_uri, country, expires_at."""
    code = _token(3, 36)
    with store.lock:
        store.codes[code] = dict(grant)
    return code


def redeem_code(store: Store, code: str, client_id: str, redirect_uri: str | None, ctx) -> None:
    """Consume a code (popped even when the request is wrong: it works once)."""
    with store.lock:
        grant = store.codes.pop(code, None)
    if grant is None or grant["expires_at"] <= ctx.now or grant["country"] != ctx.country:
        raise OAuthError(400, "invalid_grant", "The authorization code is invalid or expired.")
    if grant["client_id"] != client_id or grant["redirect_uri"] != redirect_uri:
        raise OAuthError(400, "invalid_grant", "The redirect_uri or client_id does not match.")


def rotate_refresh(store: Store, token: str, client_id: str, ctx, settings: dict) -> None:
    """Check a refresh token and consume it; raise the error Exact would answer."""
    with store.lock:
        grant = store.refresh_tokens.get(token)
        if grant is None or grant["client_id"] != client_id or grant["country"] != ctx.country:
            raise OAuthError(400, "invalid_grant", "The refresh token is invalid.")
        if grant["used"]:
            raise OAuthError(401, "unauthorized_client", "Old refresh token used.")
        expires_at = grant["issued_at"] + timedelta(seconds=settings["REFRESH_TOKEN_TTL"])
        if expires_at <= ctx.now:
            raise OAuthError(
                400,
                "invalid_request",
                f"The refresh token expired at {dotnet_stamp(expires_at)} "
                f"and it is now {dotnet_stamp(ctx.now)}.",
            )
        ctx.access_age = (ctx.now - grant["issued_at"]).total_seconds()
        if ctx.access_age < settings["REFRESH_MIN_AGE"]:
            raise OAuthError(
                400,
                "access_denied",
                "Rate limit exceeded: access_token not expired",
                reason="TooEarlyToRefreshTokens",
            )
        grant["used"] = True


def issue_tokens(store: Store, client_id: str, country: str, now: datetime, ttl: int) -> dict:
    """A new access + refresh token pair, shaped like the fixture (expires_in a string)."""
    access, refresh = secrets.token_urlsafe(96), _token(3, 120)
    owner = {"client_id": client_id, "country": country, "issued_at": now}
    with store.lock:
        owner["user_id"] = store.user["UserID"]
        store.access_tokens[access] = {**owner, "expires_at": now + timedelta(seconds=ttl)}
        store.refresh_tokens[refresh] = {**owner, "used": False}
    return {
        "access_token": access,
        "token_type": "bearer",
        "expires_in": str(ttl),
        "refresh_token": refresh,
    }


def authenticate(store: Store, token: str, country: str, now: datetime) -> dict | None:
    """The grant behind a Bearer token, or None if unknown, of another host, expired or in
    its last REJECT_BEFORE_EXPIRY."""
    with store.lock:
        grant = store.access_tokens.get(token)
    if grant is None or grant["country"] != country:
        return None
    if grant["expires_at"] - REJECT_BEFORE_EXPIRY <= now:
        return None
    return grant
