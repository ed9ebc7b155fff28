"""Builds the payment provider's client from the app's configuration, and the secret
address of its webhook."""

from __future__ import annotations

import hashlib
import hmac

from flask import Flask

from collector.payments import ProviderClient
from collector.runtime import setup as runtime_setup
from collector.teamleader import build_session


def provider(app: Flask) -> ProviderClient | None:
    """The payment provider's client, or None when no API key is configured (then the
    payment page offers no online payment)."""
    key = app.config["PAYMENT_PROVIDER_API_KEY"]
    if not key:
        return None
    return ProviderClient(build_session(), app.config["PAYMENT_PROVIDER_URL"], key)


def webhook_token(app: Flask) -> str:
    """The secret path segment of the provider's webhook URL.

    Mollie-style webhooks are not signed and carry only an id that is fetched back, so
    a forged call can at most make us re-read a payment; the token keeps even that to
    the provider. Derived from SECRET_KEY so it needs no setting of its own.
    """
    digest = hmac.new(app.config["SECRET_KEY"].encode(), b"provider-webhook", hashlib.sha256)
    return digest.hexdigest()[:40]


def webhook_url(app: Flask) -> str:
    """Where the provider tells us that a payment changed."""
    return runtime_setup.public_url(app, f"/webhooks/provider/{webhook_token(app)}")
