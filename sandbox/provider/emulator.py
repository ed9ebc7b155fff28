"""The emulator object a Flask app carries: settings, store, and the time it tells."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app

from .state import Store

EXTENSION = "provider_emulator"

DEFAULTS: dict[str, object] = {
    "API_KEY": "test_sandbox",
    "PUBLIC_URL": None,
    "EXPIRY_MINUTES": 15,
    "IDEMPOTENCY_MINUTES": 60,
    "WEBHOOK_TIMEOUT": 10.0,
    "PAYMENT_METHOD": "ideal",
    # Real Mollie refuses a webhookUrl it cannot reach (localhost, private addresses);
    # a demo or test whose receiver runs on this machine must say so.
    "ALLOW_LOCAL_WEBHOOKS": False,
    # Mollie does not document whether its totals drop when a chargeback is reversed or
    # a refund cancelled; the emulator can do either (control API: ``/_control/totals``).
    "REVERSED_CHARGEBACKS_IN_TOTAL": True,
    "CANCELED_REFUNDS_IN_TOTAL": False,
}


class Emulator:
    """Everything one emulated provider account needs at run time."""

    def __init__(self, settings: dict) -> None:
        self.settings = settings
        self.store = Store()

    @property
    def mode(self) -> str:
        """``live`` for a ``live_`` key, else ``test`` (Mollie tells them apart by prefix)."""
        return "live" if str(self.settings["API_KEY"]).startswith("live_") else "test"


def now() -> datetime:
    """The current time in UTC, to the second (Mollie's timestamps carry no fraction)."""
    return datetime.now(UTC).replace(microsecond=0)


def current() -> Emulator:
    """The emulator of the running Flask app."""
    return current_app.extensions[EXTENSION]
