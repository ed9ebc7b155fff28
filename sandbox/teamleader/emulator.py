"""The emulator object a Flask app carries: settings, clock, store, limiter, webhooks."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from .clock import Clock, iso_datetime, parse_datetime
from .generator import DEFAULT_PROFILE_OPTIONS, Sizes, generate
from .ratelimit import RateLimiter
from .state import Store
from .webhooks import Dispatcher

EXTENSION = "teamleader_emulator"

DEFAULTS: dict[str, object] = {
    "SEED": 42,
    "CONTACT_COUNT": 12,
    "COMPANY_COUNT": 18,
    "INVOICE_COUNT": 60,
    "SUBSCRIPTION_COUNT": 4,
    "RATE_LIMIT": 200,
    "RATE_WINDOW_SECONDS": 60.0,
    "ACCESS_TOKEN_TTL": 3600,
    "CODE_TTL": 600,
    "DOWNLOAD_TTL": 60,
    "CLIENTS": {"collector-sandbox": "sandbox-secret"},
    "PROFILE_OPTIONS": list(DEFAULT_PROFILE_OPTIONS),
    "WEBHOOK_TIMEOUT": 5.0,
    "CLOCK_START": None,
}


class Emulator:
    """Everything one emulated Teamleader account needs at run time."""

    def __init__(self, settings: dict) -> None:
        self.settings = settings
        self.clock = Clock(self.clock_start())
        data = generate(settings["SEED"], self.clock.now(), self.sizes(), self.options())
        self.store = Store(data)
        self.limiter = RateLimiter(settings["RATE_LIMIT"], settings["RATE_WINDOW_SECONDS"])
        self.webhooks = Dispatcher(self.store, self.clock, settings["WEBHOOK_TIMEOUT"])

    def clock_start(self) -> datetime | None:
        """``CLOCK_START`` (ISO string or datetime) as a datetime, if configured."""
        start = self.settings["CLOCK_START"]
        return parse_datetime(start) if isinstance(start, str) else start

    def sizes(self, overrides: dict | None = None) -> Sizes:
        """Generator sizes from the settings, optionally overridden (control API reset)."""
        given = {**self.settings, **(overrides or {})}
        return Sizes(
            contacts=int(given["CONTACT_COUNT"]),
            companies=int(given["COMPANY_COUNT"]),
            invoices=int(given["INVOICE_COUNT"]),
            subscriptions=int(given["SUBSCRIPTION_COUNT"]),
        )

    def options(self) -> list[str]:
        """Option labels of the payment-profile custom fields."""
        return list(self.settings["PROFILE_OPTIONS"])

    def describe(self) -> dict:
        """What a demo or test needs to know about the seeded account."""
        with self.store.lock:
            data = self.store.data
            statuses: dict[str, int] = {}
            for invoice in data.invoices.values():
                statuses[invoice["status"]] = statuses.get(invoice["status"], 0) + 1
            return {
                "seed": data.seed,
                "now": iso_datetime(self.clock.now()),
                "clients": sorted(self.settings["CLIENTS"]),
                "account": dict(data.account),
                "user": {k: data.user[k] for k in ("id", "first_name", "last_name", "email")},
                "departments": [
                    {"id": d["id"], "name": d["name"], "country": d["_country"]}
                    for d in data.departments.values()
                ],
                "custom_field_definitions": [
                    {
                        "id": d["id"],
                        "context": d["context"],
                        "type": d["type"],
                        "label": d["label"],
                        "options": list((d["configuration"] or {}).get("options", [])),
                    }
                    for d in data.custom_fields.values()
                ],
                "payment_methods": [dict(m) for m in data.payment_methods.values()],
                "counts": {
                    "invoices": statuses,
                    "credit_notes": len(data.credit_notes),
                    "contacts": len(data.contacts),
                    "companies": len(data.companies),
                    "subscriptions": len(data.subscriptions),
                },
            }

    def fire(self, event_type: str, subject_type: str, subject_id: str) -> int:
        """Send a webhook event in the background."""
        return self.webhooks.fire(event_type, subject_type, subject_id)


def current() -> Emulator:
    """The emulator of the running Flask app."""
    return current_app.extensions[EXTENSION]
