"""OAuth2 grants: authorization codes, access tokens, rotating refresh tokens.

Reference §1: a code is single use and expires 10 minutes after issue; access tokens
live 3600 s; each refresh returns a new access *and* refresh token and the old refresh
token stops working (rotation). Expiry is measured on the emulator clock.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from .state import Store


class OAuthError(Exception):
    """A token-endpoint error, rendered OAuth style (RFC 6749 §5.2)."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description


def issue_code(store: Store, client_id: str, redirect_uri: str, expires_at: datetime) -> str:
    """A new single-use authorization code for the account's user."""
    code = secrets.token_urlsafe(24)
    with store.lock:
        store.codes[code] = {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "expires_at": expires_at,
        }
    return code


def redeem_code(
    store: Store, code: str, client_id: str, redirect_uri: str | None, now: datetime
) -> None:
    """Consume a code; raise ``invalid_grant`` if unknown, used, expired or mismatched."""
    with store.lock:
        grant = store.codes.pop(code, None)  # popped even on mismatch: single use
    if grant is None or grant["expires_at"] <= now:
        raise OAuthError(400, "invalid_grant", "The authorization code is invalid or expired")
    if grant["client_id"] != client_id:
        raise OAuthError(
            400, "invalid_grant", "The authorization code was issued to another client"
        )
    if redirect_uri != grant["redirect_uri"]:
        raise OAuthError(
            400, "invalid_grant", "redirect_uri does not match the authorization request"
        )


def rotate_refresh(store: Store, refresh_token: str, client_id: str) -> None:
    """Consume a refresh token; it can never be used again."""
    with store.lock:
        grant = store.refresh_tokens.get(refresh_token)
        if grant is None or grant["client_id"] != client_id:
            raise OAuthError(
                400, "invalid_grant", "The refresh token is invalid or was already used"
            )
        del store.refresh_tokens[refresh_token]


def issue_tokens(store: Store, client_id: str, now: datetime, ttl: int) -> dict:
    """A new access + refresh token pair, as the token endpoint returns it."""
    access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with store.lock:
        owner = {"client_id": client_id, "account_id": store.data.account["id"]}
        owner["user_id"] = store.data.user["id"]
        store.access_tokens[access] = {**owner, "expires_at": now + timedelta(seconds=ttl)}
        store.refresh_tokens[refresh] = owner
    # Shape and key order of fixture oauth2.access_token.response.json; no "scope" field.
    return {
        "token_type": "Bearer",
        "expires_in": ttl,
        "access_token": access,
        "refresh_token": refresh,
    }


def authenticate(store: Store, token: str, now: datetime) -> dict | None:
    """The grant behind a Bearer token, or ``None`` if unknown or expired."""
    with store.lock:
        grant = store.access_tokens.get(token)
        if grant is not None and grant["expires_at"] <= now:
            del store.access_tokens[token]
            grant = None
    return grant


def revoke_all(store: Store) -> None:
    """Forget every grant, as when the user uninstalls the integration."""
    with store.lock:
        store.codes.clear()
        store.access_tokens.clear()
        store.refresh_tokens.clear()
