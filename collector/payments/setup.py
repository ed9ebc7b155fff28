"""Builds the payment provider's client from the app's configuration, and the secret
address of its webhook."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

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


# Mollie answers a new payment with ``_links.checkout`` on www.mollie.com
# (https://www.mollie.com/checkout/...), not on its API host. From Mollie's public API
# documentation, not in reference/ and not verified against a live account: should the
# checkout move or redirect to another host, PAYMENT_CHECKOUT_ORIGINS names it.
MOLLIE_API_HOST = "api.mollie.com"
MOLLIE_CHECKOUT_ORIGIN = "https://www.mollie.com"


def checkout_origins(app: Flask) -> list[str]:
    """Where the provider's hosted checkout may be (``scheme://host[:port]``): the payment
    page's form may send the customer there and nowhere else. PAYMENT_CHECKOUT_ORIGINS
    when set; else Mollie's checkout for Mollie's API, or the API's own origin (the
    sandbox serves its checkout beside its API)."""
    configured = [_origin(url) for url in app.config["PAYMENT_CHECKOUT_ORIGINS"].split()]
    if configured:
        return configured
    api = urlsplit(app.config["PAYMENT_PROVIDER_URL"])
    if api.hostname == MOLLIE_API_HOST:
        return [MOLLIE_CHECKOUT_ORIGIN]
    return [f"{api.scheme}://{api.netloc}"]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


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
