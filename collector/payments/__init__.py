"""Payments online: the customer's payment page, checkouts at the payment provider, its
webhook, refunds.

This package's own names are the provider client (Mollie's Payments API v2 shape), which
knows no Flask, no environment and no database: callers pass a session, the base URL (the
real API or ``sandbox/provider``) and the API key.
"""

from collector.payments.provider import PaymentRequest, ProviderClient
from collector.payments.provider_errors import (
    AuthError,
    MalformedResponse,
    NotFound,
    ProviderError,
    RateLimited,
    Unavailable,
    ValidationFailed,
    error_from_response,
)

__all__ = [
    "AuthError",
    "MalformedResponse",
    "NotFound",
    "PaymentRequest",
    "ProviderClient",
    "ProviderError",
    "RateLimited",
    "Unavailable",
    "ValidationFailed",
    "error_from_response",
]
