"""The emulator object a Flask app carries: settings, clock, store and rate limiter."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from . import seed
from .clock import Clock, parse_datetime
from .ratelimit import RateLimiter
from .state import Store

EXTENSION = "exact_emulator"
# Country host segments: start.exactonline.{nl,be,…} (reference §1.1).
COUNTRIES = ("nl", "be", "de", "co.uk", "com", "es", "fr")

DEFAULTS: dict[str, object] = {
    "SEED": 42,
    "COUNTRY": "be",
    "CLIENTS": {"collector-sandbox": "sandbox-secret"},
    "ACCESS_TOKEN_TTL": 600,
    "REFRESH_MIN_AGE": 570,
    "REFRESH_TOKEN_TTL": 30 * 24 * 3600,
    "CODE_TTL": 180,
    "MINUTE_LIMIT": 60,
    "MINUTE_WINDOW": 60.0,
    "DAILY_LIMIT": 5000,
    "PAGE_SIZE": 60,
    "ACCOUNT_COUNT": 8,
    "CLOCK_START": None,
}


class Emulator:
    """Everything one emulated Exact Online user and its divisions need at run time."""

    def __init__(self, settings: dict) -> None:
        self.settings = dict(settings)
        self.clock = Clock(self.clock_start())
        self.store = Store()
        self.limiter = RateLimiter(
            self.settings["MINUTE_LIMIT"],
            self.settings["MINUTE_WINDOW"],
            self.settings["DAILY_LIMIT"],
        )
        self.reseed()

    def clock_start(self) -> datetime | None:
        """``CLOCK_START`` (ISO string or datetime) as a datetime, if configured."""
        start = self.settings["CLOCK_START"]
        return parse_datetime(start) if isinstance(start, str) else start

    def reseed(self, keep_auth: bool = False) -> None:
        """Rebuild the user and its divisions from the settings."""
        user, divisions = seed.build(
            int(self.settings["SEED"]), self.clock.now(), int(self.settings["ACCOUNT_COUNT"])
        )
        self.store.load(user, divisions, keep_auth)
        self.limiter.reset()

    def reset(self, overrides: dict | None = None) -> None:
        """Back to a fresh state, with settings overridden (control API ``reset``)."""
        self.settings.update(overrides or {})
        start = self.clock_start()
        if start is not None:
            self.clock.set(start)
        else:
            self.clock.reset()
        s = self.settings
        self.limiter.configure(s["MINUTE_LIMIT"], s["MINUTE_WINDOW"], s["DAILY_LIMIT"])
        self.reseed()

    def describe(self) -> dict:
        """What a demo or test needs to know: user, divisions and their master data."""
        with self.store.lock:
            return {
                "now": self.clock.now().isoformat(),
                "country": self.settings["COUNTRY"],
                "user": {k: str(self.store.user[k]) for k in ("UserID", "FullName", "Email")},
                "divisions": [_division_summary(d) for d in self.store.divisions.values()],
            }


def _division_summary(division) -> dict:
    def codes(path: str, *keys: str) -> list[dict]:
        rows = division.table(path).values()
        return [{k: _plain(r[k]) for k in keys} for r in rows]

    return {
        "code": division.code,
        "description": division.header["Description"],
        "journals": codes("financial/Journals", "Code", "Description", "Type", "IsBlocked"),
        "vat_codes": codes(
            "vat/VATCodes", "Code", "Percentage", "Type", "VATTransactionType", "IsBlocked"
        ),
        "gl_accounts": codes("financial/GLAccounts", "ID", "Code", "Description", "Type"),
        "payment_conditions": codes("cashflow/PaymentConditions", "Code", "PaymentDays"),
        "accounts": codes("crm/Accounts", "ID", "Code", "Name", "Status"),
        "sales_entries": len(division.table("salesentry/SalesEntries")),
    }


def _plain(value: object) -> object:
    return value if isinstance(value, bool | int | type(None)) else str(value)


def current() -> Emulator:
    """The emulator of the running Flask app."""
    return current_app.extensions[EXTENSION]
