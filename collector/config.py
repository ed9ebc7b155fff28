"""Configuration: the only module that reads the environment.

Every key the service understands is listed in ``KEYS`` with its default and a
one-line description; ``README.md`` shows the same table. Values come from, in
order of precedence: the ``config`` mapping given to ``create_app``, the process
environment, a ``.env`` file in the working directory (development only), the
defaults below.
"""

from __future__ import annotations

import ipaddress
import math
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

from collector.core import crypto

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-not-secret"  # noqa: S105  (refused in production)
# The only values of ENV that may run on built-in secrets; any other is production.
SAFE_ENVS = ("development", "test")
MIN_SECRET_LENGTH = 32
# Estimated from the key's own characters (length × their Shannon entropy): a random
# 32-character hex key scores 90 to 125, "abcd" * 8 scores 64, "s" * 32 scores 0.
MIN_SECRET_BITS = 80
BUILT_IN_URL = "http://127.0.0.1:5000"  # the demo's; production must name its own
RANDOM_KEY_COMMAND = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"


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
        "ENV",
        "development",
        "development | test | production. Any other value (Production, prod, empty) is "
        "production, which refuses to start on built-in or weak secrets",
    ),
    Key(
        "SECRET_KEY",
        DEV_SECRET,
        "Signs sessions and CSRF tokens. Production: random, at least 32 characters",
    ),
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
    # Logins: failed attempts are counted per email typed and per client address in Redis
    # (shared by every web process); past the limit, that email or address is refused
    # until the window has passed, whatever password it brings.
    Key("LOGIN_ACCOUNT_LIMIT", 5, "Failed logins per email within the window before refusing"),
    Key(
        "LOGIN_ADDRESS_LIMIT",
        20,
        "Failed logins per client address within the window before refusing",
    ),
    Key("LOGIN_WINDOW_MINUTES", 15, "The window failed logins are counted in, minutes"),
    Key(
        "PROXY_HOPS",
        0,
        "Proxies in front of the app whose X-Forwarded-For is trusted for the client "
        "address (login throttling, the audit log); 0: the connecting address is the client",
    ),
    # Sessions end on their own after this long unused, or this long after the login,
    # checked on the server from the times kept in the session.
    Key("SESSION_IDLE_MINUTES", 480, "A session unused this long ends, minutes"),
    Key("SESSION_MAX_HOURS", 168, "A session ends this long after its login, hours"),
    Key(
        "PASSWORD_LINK_HOURS",
        24,
        "How long an invitation's or a reset's one-time password link works, hours",
    ),
    Key("MAIL_HOST", "", "SMTP host; empty: mail goes to the demo mail sink"),
    Key("MAIL_PORT", 587, "SMTP port"),
    Key("MAIL_SECURITY", "starttls", "none | starttls | ssl"),
    Key("MAIL_USERNAME", "", "SMTP user"),
    Key("MAIL_PASSWORD", "", "SMTP password"),
    Key("MAIL_FROM", "collector@localhost", "Sender address of every email"),
    Key(
        "OPERATOR_DIGEST_MINUTES",
        60,
        "Admins get what needs a person (connections, refused documents, failed jobs) as one "
        "mail at most this often, minutes",
    ),
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
    Key(
        "OUTBOUND_ALLOWED_HOSTS",
        "",
        "host[:port] list that callback URLs and download locations may reach although "
        "internal (loopback, private): the sandbox in development and tests; refused in "
        "production",
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
    # 59 of 60: one call of margin (collector/exact/ratelimit.py says why that is enough).
    *_upstream("EXACT", "the Exact Online app", "administration", 59, 60, "minutely"),
    Key(
        "EXACT_DAILY_LIMIT",
        4900,
        "Calls per day we allow ourselves per administration (Exact allows 5,000)",
    ),
    Key("EXACT_BATCH_SIZE", 500, "Most documents one forwarding run books"),
    Key("PAYMENT_PROVIDER_URL", "https://api.mollie.com/v2", "Payment provider API base URL"),
    Key("PAYMENT_PROVIDER_API_KEY", "", "Payment provider API key"),
    Key(
        "PAYMENT_CHECKOUT_ORIGINS",
        "",
        "Origins (https://host) the provider's hosted checkout may be on, space-separated; "
        "the payment page's form may go only there. Empty: Mollie's for its API, else the "
        "provider API's own origin (an emulator)",
    ),
    Key("PUBLIC_BASE_URL", BUILT_IN_URL, "Public URL of this service (links, webhooks)"),
    Key(
        "DOCUMENT_STORAGE",
        "",
        "Folder for PDFs (content-addressed). Default: documents/ in the instance folder",
    ),
    Key(
        "STORAGE",
        "folder",
        "Where PDFs and uploaded files are kept: folder (DOCUMENT_STORAGE, one machine or a "
        "shared mount) | s3 (an S3-compatible bucket, shared by every machine)",
    ),
    Key("S3_BUCKET", "", "STORAGE=s3: the bucket"),
    Key("S3_PREFIX", "", "STORAGE=s3: a folder in the bucket for our objects, e.g. collector/"),
    Key(
        "S3_ENDPOINT_URL",
        "",
        "STORAGE=s3: an S3-compatible service's https:// address; empty: AWS S3. "
        "Credentials come from the standard AWS chain (AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an instance role), never from these settings",
    ),
    Key("S3_REGION", "", "STORAGE=s3: the bucket's region, e.g. eu-west-1"),
    Key("INSTANCE_PATH", "", "Folder for the SQLite file and demo files. Default: instance/"),
    Key("LOG_LEVEL", "INFO", "Python log level"),
    Key(
        "LOG_FORMAT",
        "",
        "json: one JSON object a line (a line per request and per job, with its request "
        "id); text: lines for people. Empty: json in production, text otherwise",
    ),
    Key(
        "METRICS_TOKEN",
        "",
        "Bearer token Prometheus sends to read /metrics. Empty: /metrics answers only "
        "requests from this machine (loopback) that no proxy forwarded",
    ),
    Key(
        "READYZ_TOKEN",
        "",
        "Token that opens /readyz from other hosts (header X-Readyz-Token or ?token=); "
        "empty: /readyz answers loopback only",
    ),
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
    """Return the settings as a dict: defaults < .env < environment < overrides.

    ``ENV`` comes out as ``development``, ``test`` or ``production``; what was set is kept
    in ``ENV_AS_SET``. Flask's old ``FLASK_ENV`` stands in for an ``ENV`` not set."""
    settings: dict[str, object] = dict(_DEFAULTS)
    env_file = env_file if env_file is not None else Path.cwd() / ".env"
    layers = [dotenv_values(env_file) if env_file.is_file() else {}, os.environ]
    for layer in layers:
        settings.update({k: v for k, v in layer.items() if k in _DEFAULTS})
        if "ENV" not in layer and "FLASK_ENV" in layer:
            settings["ENV"] = layer["FLASK_ENV"]
    settings.update(overrides or {})
    loaded = {name: _coerce(name, value) for name, value in settings.items()}
    loaded["ENV_AS_SET"] = loaded["ENV"]
    loaded["ENV"] = environment(loaded["ENV"])
    return loaded


def environment(value: object) -> str:
    """``development`` or ``test`` when set exactly so; anything else is ``production``."""
    return value if value in SAFE_ENVS else "production"


class UnsafeConfiguration(RuntimeError):
    """Production refuses to start: ``problems`` says what to set."""

    def __init__(self, problems: list[str], env_as_set: object = "production"):
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(
            f"Refusing to start: ENV={env_as_set!r} runs as production (only ENV=development "
            f"or ENV=test may run on built-in secrets), and\n{lines}"
        )


def production_problems(settings: Mapping) -> list[str]:
    """What production refuses to start with, each saying what to set instead."""
    found = [
        secret_key_problem(str(settings["SECRET_KEY"])),
        crypto.key_problem(str(settings["TOKEN_ENCRYPTION_KEY"]), str(settings["SECRET_KEY"])),
        public_url_problem(str(settings["PUBLIC_BASE_URL"])),
        outbound_problem(str(settings.get("OUTBOUND_ALLOWED_HOSTS") or "")),
        *storage_problems(settings),
    ]
    return [problem for problem in found if problem]


STORAGES = ("folder", "s3")


def storage_problems(settings: Mapping) -> list[str]:
    """What is wrong with the document storage settings: an unknown STORAGE, a bucket not
    named, an endpoint reached without TLS."""
    kind = str(settings.get("STORAGE") or "folder")
    if kind not in STORAGES:
        return [f"STORAGE ({kind}) must be folder or s3."]
    if kind != "s3":
        return []
    found = []
    if not str(settings.get("S3_BUCKET") or "").strip():
        found.append("STORAGE=s3 needs S3_BUCKET: the bucket the documents are kept in.")
    endpoint = str(settings.get("S3_ENDPOINT_URL") or "")
    parts = urlsplit(endpoint)
    if endpoint and not (
        (parts.scheme == "https" and parts.hostname)
        or (parts.scheme == "http" and _loopback(parts.hostname or ""))
    ):
        found.append(
            f"S3_ENDPOINT_URL ({endpoint}) must be an https:// address: the documents and "
            "the credentials' signatures travel over it."
        )
    return found


def outbound_problem(entries: str) -> str | None:
    """OUTBOUND_ALLOWED_HOSTS lets outside URLs reach internal hosts: the sandbox's only."""
    if not entries.strip():
        return None
    return (
        "OUTBOUND_ALLOWED_HOSTS must be empty in production: it lets callback URLs and "
        "download locations reach internal addresses (it is for the sandbox only)."
    )


def secret_key_problem(value: str) -> str | None:
    """Why ``value`` is no production SECRET_KEY (anyone who knows it forges a login), or
    None."""
    if value == DEV_SECRET:
        why = "is the built-in development key, which is public"
    elif len(value) < MIN_SECRET_LENGTH:
        why = f"is {len(value)} characters long; it must be at least {MIN_SECRET_LENGTH}"
    elif _estimated_bits(value) < MIN_SECRET_BITS:
        why = "is too regular to be random"
    else:
        return None
    return f"SECRET_KEY {why}. Set a random one, e.g. the output of: {RANDOM_KEY_COMMAND}"


def _estimated_bits(value: str) -> float:
    counts = Counter(value)
    return -sum(n * math.log2(n / len(value)) for n in counts.values())


def public_url_problem(url: str) -> str | None:
    """Why ``url`` is no production PUBLIC_BASE_URL, or None. Plain http is accepted only
    on a loopback host: a rehearsal on one machine (the fault suite), which nobody else
    can reach."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and _loopback(parts.hostname or "") and url != BUILT_IN_URL:
        return None
    return (
        f"PUBLIC_BASE_URL ({url or 'empty'}) must be the https:// address customers and "
        "the payment provider reach this service at, e.g. https://collect.example.com"
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
