"""Teamleader Focus: the connection, imports of invoices and credit notes, its webhooks
and the sweep behind them, our payments written back (the outbox), customers and PDFs.

This package's own names are the API client — OAuth, a rate-limited client returning
records, typed errors, a guarded fetcher for the short-lived download locations — which
knows no Flask, no environment and no database: callers pass a session, base URLs,
credentials and a token source. Facts cited as §N come from ``reference/teamleader-api.md``.
"""

from collector.core.http import build_session
from collector.core.tokens import TokenSource
from collector.teamleader.auth import StaticTokenSource, TeamleaderOAuth, TokenPair
from collector.teamleader.client import TeamleaderClient
from collector.teamleader.errors import (
    AuthError,
    Forbidden,
    MalformedResponse,
    NotFound,
    OAuthError,
    RateLimited,
    TeamleaderError,
    Unavailable,
    ValidationFailed,
    error_from_response,
    is_invalid_grant,
)
from collector.teamleader.files import FileFetcher, FileRefused
from collector.teamleader.ratelimit import RateLimiter, RedisRateLimiter, ShareLimiter

__all__ = [
    "AuthError",
    "FileFetcher",
    "FileRefused",
    "Forbidden",
    "MalformedResponse",
    "NotFound",
    "OAuthError",
    "RateLimited",
    "RateLimiter",
    "RedisRateLimiter",
    "ShareLimiter",
    "StaticTokenSource",
    "TeamleaderClient",
    "TeamleaderError",
    "TeamleaderOAuth",
    "TokenPair",
    "TokenSource",
    "Unavailable",
    "ValidationFailed",
    "build_session",
    "error_from_response",
    "is_invalid_grant",
]
