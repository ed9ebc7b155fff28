"""Configuration: the only module that reads the environment.

Every key the service understands is listed in ``KEYS`` with its default and a
one-line description; ``README.md`` shows the same table. Values come from, in
order of precedence: the ``config`` mapping given to ``create_app``, the process
environment, a ``.env`` file in the working directory (development only), the
defaults below.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-not-secret"  # noqa: S105  (refused in production)


@dataclass(frozen=True)
class Key:
    name: str
    default: object
    help: str

    @property
    def kind(self) -> type:
        """What a value from the environment is read as: the type of the default."""
        return type(self.default)


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def _upstream(
    prefix: str, app: str, per: str, calls: int, allowed: int, window: str
) -> tuple[Key, ...]:
    """The four keys every OAuth2 upstream has: the client id and secret of our ``app``, and
    the ``calls`` a minute we allow ourselves per tenant (``per``) of the ``allowed``."""
    limit = f"Calls per window we allow ourselves per {per} (the API allows {allowed}/min)"
    return (
        Key(f"{prefix}_CLIENT_ID", "", f"OAuth2 client id of {app}"),
        Key(f"{prefix}_CLIENT_SECRET", "", f"OAuth2 client secret of {app}"),
        Key(f"{prefix}_RATE_LIMIT", calls, limit),
        Key(f"{prefix}_RATE_WINDOW", 60.0, f"Length of the API's {window} window, seconds"),
    )


KEYS: tuple[Key, ...] = (
    Key(
        "ENV", "development", "development | production | test; production refuses unsafe defaults"
    ),
    Key("SECRET_KEY", DEV_SECRET, "Signs sessions and CSRF tokens. Required in production."),
    Key(
        "TOKEN_ENCRYPTION_KEY",
        "",
        "Fernet key(s), comma-separated, newest first, that encrypt OAuth tokens at rest. "
        "Required in production; derived from SECRET_KEY in development.",
    ),
    Key(
        "DATABASE_URL",
        "",
        "SQLAlchemy URL. Default: SQLite file collector.sqlite3 in the instance folder. "
        "PostgreSQL in production: postgresql+psycopg://user@host/db",
    ),
    Key(
        "REDIS_URL",
        "redis://127.0.0.1:6379/0",
        "Redis for rq jobs, locks and rate limits. Empty: jobs run in-process.",
    ),
    Key("JOBS_INLINE", False, "Run jobs in the web process instead of rq (demo without Redis)"),
    Key(
        "WORKER_LANES",
        "lanes",
        "lanes: each worker.py runs a payment lane (high queue, no fork per job) beside a "
        "general worker; single: one forking rq worker",
    ),
    Key(
        "SESSION_COOKIE_SECURE",
        False,
        "Send the session cookie over HTTPS only (on in production)",
    ),
    Key("MAIL_HOST", "", "SMTP host; empty: mail goes to the demo mail sink"),
    Key("MAIL_PORT", 587, "SMTP port"),
    Key("MAIL_SECURITY", "starttls", "none | starttls | ssl"),
    Key("MAIL_USERNAME", "", "SMTP user"),
    Key("MAIL_PASSWORD", "", "SMTP password"),
    Key("MAIL_FROM", "collector@localhost", "Sender address of every email"),
    Key(
        "REMINDER_CONFIRM_DAYS",
        7,
        "“Send reminder now” asks first when the document was reminded in these last days",
    ),
    Key("TEAMLEADER_AUTH_URL", "https://focus.teamleader.eu", "Teamleader OAuth2 host"),
    Key("TEAMLEADER_API_URL", "https://api.focus.teamleader.eu", "Teamleader API base URL"),
    *_upstream("TEAMLEADER", "the Teamleader integration", "account", 190, 200, "sliding"),
    Key(
        "TEAMLEADER_PDF_SHARE",
        0.5,
        "Part of that budget PDF retrieval may use, so imports and webhooks always find room",
    ),
    Key(
        "TEAMLEADER_FILES_HTTP_HOSTS",
        "",
        "host:port list whose download locations may be plain http (an emulator); "
        "TEAMLEADER_API_URL's host is included when it is http",
    ),
    Key("PDF_BATCH_SIZE", 100, "Most PDFs the schedule fetches per run (every 5 minutes)"),
    Key("PDF_MAX_BYTES", 20 * 1024 * 1024, "Largest PDF accepted from Teamleader, bytes"),
    Key(
        "MAX_CONTENT_LENGTH",
        64 * 1024 * 1024,
        "Largest request body, bytes: uploads (a 100,000-row mandates CSV is about 10 MB) "
        "are refused with 413 above it before anything reads them",
    ),
    Key(
        "EXACT_BASE_URL",
        "https://start.exactonline.{country}",
        "Exact Online host; {country} is the country chosen at connect (nl, be, de, co.uk, "
        "com, es, fr): each country runs its own Exact",
    ),
    *_upstream("EXACT", "the Exact Online app", "administration", 57, 60, "minutely"),
    Key(
        "EXACT_DAILY_LIMIT",
        4900,
        "Calls per day we allow ourselves per administration (Exact allows 5,000)",
    ),
    Key("EXACT_BATCH_SIZE", 500, "Most documents one forwarding run books"),
    Key("PAYMENT_PROVIDER_URL", "https://api.mollie.com/v2", "Payment provider API base URL"),
    Key("PAYMENT_PROVIDER_API_KEY", "", "Payment provider API key"),
    Key("PUBLIC_BASE_URL", "http://127.0.0.1:5000", "Public URL of this service (links, webhooks)"),
    Key(
        "DOCUMENT_STORAGE",
        "",
        "Folder for PDFs (content-addressed). Default: documents/ in the instance folder",
    ),
    Key("INSTANCE_PATH", "", "Folder for the SQLite file and demo files. Default: instance/"),
    Key("LOG_LEVEL", "INFO", "Python log level"),
)

_DEFAULTS = {key.name: key.default for key in KEYS}
_KINDS = {key.name: key.kind for key in KEYS}


def _coerce(name: str, value: object) -> object:
    kind = _KINDS.get(name, str)
    if kind is bool:
        return _bool(value)
    if kind in (int, float):
        return kind(value)
    return value


def load(overrides: dict | None = None, *, env_file: Path | None = None) -> dict:
    """Return the settings as a dict: defaults < .env < environment < overrides."""
    settings: dict[str, object] = dict(_DEFAULTS)
    env_file = env_file if env_file is not None else Path.cwd() / ".env"
    layers = [dotenv_values(env_file) if env_file.is_file() else {}, os.environ]
    for layer in layers:
        settings.update({k: v for k, v in layer.items() if k in _DEFAULTS})
    settings.update(overrides or {})
    return {name: _coerce(name, value) for name, value in settings.items()}
