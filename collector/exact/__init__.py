"""Exact Online: the connection per country host, the administration and its settings,
each document booked as one sales entry with its PDF, customers as accounts.

This package's own names are the API client — OAuth, a paced client returning records,
typed errors, the per-division pacing shared through Redis — which knows no Flask, no
environment and no database: callers pass a session, the host, credentials and a token
source. Facts cited as §N come from ``reference/exact-online-api.md``.
"""

from collector.core.http import build_session
from collector.exact.auth import (
    COUNTRIES,
    REFRESH_BEFORE_EXPIRY,
    ExactOAuth,
    StaticTokenSource,
    TokenPair,
    host_for,
)
from collector.exact.client import ExactClient
from collector.exact.errors import (
    AuthError,
    ExactError,
    Forbidden,
    MalformedResponse,
    NotFound,
    OAuthError,
    RateLimited,
    Unavailable,
    ValidationFailed,
    error_from_response,
)
from collector.exact.ratelimit import ExactRateLimiter, Pacer

__all__ = [
    "COUNTRIES",
    "REFRESH_BEFORE_EXPIRY",
    "AuthError",
    "ExactClient",
    "ExactError",
    "ExactOAuth",
    "ExactRateLimiter",
    "Forbidden",
    "MalformedResponse",
    "NotFound",
    "OAuthError",
    "Pacer",
    "RateLimited",
    "StaticTokenSource",
    "TokenPair",
    "Unavailable",
    "ValidationFailed",
    "build_session",
    "error_from_response",
    "host_for",
]
