"""Is this installation able to work? One set of checks, read three ways: ``/readyz`` (JSON
for a monitor or a load balancer), ``flask --app collector doctor`` (every problem, for the
operator) and the start-up of the web and worker processes (a warning per failing check).

``/healthz`` answers without touching anything: the process is alive and serves requests.

A check names itself, says whether it passed and gives details fit to show: counts, ages,
states, the error's class and first line, never a URL with its password or a token. A
``required`` check that fails makes ``/readyz`` answer 503; the others (queue backlog,
Teamleader and Exact connections) are reported for the operator, but a reconnect that a
person must make does not take the web processes out of a load balancer.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis
import requests
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, current_app, jsonify, request
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import text

from collector import ROOT
from collector import config as config_module
from collector.core.oauth import ConnectionStatus
from collector.exact.connection import current_exact
from collector.extensions import db
from collector.runtime.queue import QUEUES
from collector.teamleader.connection import current_connection

log = logging.getLogger(__name__)

MIGRATIONS = ROOT / "migrations"
# rq cron writes its heartbeat here (a sorted set: scheduler name → last beat, epoch s).
CRON_REGISTRY = "rq:cron_schedulers"
# rq cron beats at least once a minute (it sleeps 60 s at most between rounds): three
# missed beats and the schedule counts as stopped.
SCHEDULE_STALE_AFTER = 180
TIMEOUT = 3  # seconds any connection check may take

bp = Blueprint("health", __name__)
BLUEPRINTS = [bp]


@dataclass
class Check:
    name: str
    ok: bool
    details: dict = field(default_factory=dict)
    required: bool = True

    def as_json(self) -> dict:
        return {"ok": self.ok, "required": self.required, **self.details}


def _failure(exc: BaseException) -> dict:
    """What went wrong, fit to show: the error's class and first line (neither holds the
    URL's password: drivers name the host and port they could not reach)."""
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    return {"error": f"{type(exc).__name__}: {first}" if first else type(exc).__name__}


def database() -> Check:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means the same: not reachable
        db.session.rollback()
        return Check("database", False, _failure(exc))
    return Check("database", True, {"backend": db.engine.url.get_backend_name()})


def migrations() -> Check:
    """The schema is the code's: the database's revision is the newest migration."""
    heads = set(ScriptDirectory(str(MIGRATIONS)).get_heads())
    try:
        current = set(MigrationContext.configure(db.session.connection()).get_current_heads())
    except Exception as exc:
        db.session.rollback()
        return Check("migrations", False, _failure(exc))
    details = {"database": sorted(current), "code": sorted(heads)}
    if current != heads:
        details["error"] = "run: flask --app collector db upgrade"
    return Check("migrations", current == heads, details)


def redis_client(app: Flask) -> redis.Redis | None:
    """A short-timeout connection to the jobs' Redis, or None when jobs run in-process."""
    if app.extensions["jobs"].backend.name != "rq":
        return None
    # One attempt: redis-py retries a refused connection with backoff by default, which
    # would keep a probe waiting for seconds before it says what it knows.
    return redis.Redis.from_url(
        app.config["REDIS_URL"],
        socket_connect_timeout=TIMEOUT,
        socket_timeout=TIMEOUT,
        retry=Retry(NoBackoff(), 0),
    )


def redis_check(conn: redis.Redis | None) -> Check:
    if conn is None:
        return Check("redis", True, {"used": False, "jobs": "in-process"})
    try:
        conn.ping()
    except redis.RedisError as exc:
        return Check("redis", False, _failure(exc))
    return Check("redis", True, {"used": True})


def queues(conn: redis.Redis | None, now: float) -> Check:
    """Jobs waiting per queue and how long the oldest has waited (s). Reported, not
    required: a backlog is for a person to judge (an import queues thousands at once)."""
    if conn is None:
        return Check("queues", True, {"used": False}, required=False)
    found = {}
    try:
        for name in QUEUES:
            queue = Queue(name, connection=conn)
            found[name] = {"waiting": queue.count, "oldest_age_seconds": _oldest(queue, now)}
    except redis.RedisError as exc:
        return Check("queues", False, _failure(exc), required=False)
    return Check("queues", True, found, required=False)


def _oldest(queue: Queue, now: float) -> float | None:
    """How long the job at the head of ``queue`` has waited, s (None: none waits)."""
    first = queue.get_job_ids(0, 0)
    try:
        job = Job.fetch(first[0], connection=queue.connection) if first else None
    except NoSuchJobError:  # taken (or expired) between the two reads
        return None
    if job is None or job.enqueued_at is None:
        return None
    return round(max(0.0, now - job.enqueued_at.replace(tzinfo=UTC).timestamp()), 1)


def schedule(conn: redis.Redis | None, now: float) -> Check:
    """The clock process (rq cron) beats: the periodic work is being started."""
    if conn is None:
        return Check("schedule", True, {"runs": "in-process"})
    try:
        newest = conn.zrevrange(CRON_REGISTRY, 0, 0, withscores=True)
    except redis.RedisError as exc:
        return Check("schedule", False, _failure(exc))
    if not newest:
        return Check("schedule", False, {"error": "no clock process has beaten (start: clock)"})
    age = round(max(0.0, now - newest[0][1]), 1)
    details = {"heartbeat_age_seconds": age}
    if age > SCHEDULE_STALE_AFTER:
        details["error"] = f"the clock has not beaten for {age:.0f} s"
    return Check("schedule", age <= SCHEDULE_STALE_AFTER, details)


def connection(name: str, find: Callable) -> Check:
    """A stored OAuth connection's state: connected, reconnect (a person must act) or not
    connected. Reported, not required."""
    try:
        row = find()
    except Exception as exc:
        db.session.rollback()
        return Check(name, False, _failure(exc), required=False)
    state = row.status.value if row is not None else ConnectionStatus.DISCONNECTED.value
    details = {"state": state}
    if state == ConnectionStatus.RECONNECT_NEEDED.value:
        details["error"] = "a person must connect again (Settings)"
    return Check(name, state != ConnectionStatus.RECONNECT_NEEDED.value, details, required=False)


def readiness(app: Flask) -> list[Check]:
    """Every check ``/readyz`` reports, in the order it shows them."""
    now = time.time()
    found = [database()]
    found.append(
        migrations()
        if found[0].ok
        else Check("migrations", False, {"error": "the database does not answer"})
    )
    conn = redis_client(app)
    try:
        found.append(redis_check(conn))
        redis_ok = found[-1].ok
        found.append(queues(conn, now) if redis_ok else _skipped("queues"))
        found.append(schedule(conn, now) if redis_ok else _skipped("schedule"))
    finally:
        if conn is not None:
            conn.close()
    if found[0].ok:
        found.append(connection("teamleader", current_connection))
        found.append(connection("exact", current_exact))
    return found


def _skipped(name: str) -> Check:
    return Check(name, False, {"error": "Redis does not answer"}, required=name != "queues")


# What ``doctor`` adds: the mail server and the upstream hosts, reached from here.
def mail_server(config) -> Check | None:
    """The SMTP server answers (and takes the login, when one is configured)."""
    if not config["MAIL_HOST"]:
        return None
    host, port = config["MAIL_HOST"], int(config["MAIL_PORT"])
    try:
        smtp_class = smtplib.SMTP_SSL if config["MAIL_SECURITY"] == "ssl" else smtplib.SMTP
        with smtp_class(host, port, timeout=TIMEOUT) as smtp:
            if config["MAIL_SECURITY"] == "starttls":
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
    except (OSError, smtplib.SMTPException) as exc:
        return Check("mail", False, _failure(exc))
    return Check("mail", True, {"host": f"{host}:{port}"})


UPSTREAMS = (
    ("teamleader_api", "TEAMLEADER_API_URL"),
    ("teamleader_auth", "TEAMLEADER_AUTH_URL"),
    ("payment_provider", "PAYMENT_PROVIDER_URL"),
)


def upstreams(config) -> list[Check]:
    """Each configured upstream answers HTTP at all (any status: a 401 or 404 still proves
    the host is there; a refused connection, a DNS failure or a timeout does not). Exact's
    URL names its country at connect: the Belgian one stands for them all here."""
    found = []
    hosts = [(name, config[key]) for name, key in UPSTREAMS]
    hosts.append(("exact", str(config["EXACT_BASE_URL"]).replace("{country}", "be")))
    for name, url in hosts:
        try:
            requests.head(url, timeout=TIMEOUT, allow_redirects=False)
        except requests.RequestException as exc:
            found.append(Check(name, False, _failure(exc)))
        else:
            found.append(Check(name, True, {"url": url}))
    return found


def doctor(
    app: Flask, online: bool = True, refused: list[str] | None = None
) -> tuple[list[str], list[Check]]:
    """What ``flask doctor`` reports: the settings production refuses (``refused``: those
    it refused to start with) or that are unsafe, and every check, with the mail server
    and the upstreams reached from here when ``online``."""
    settings: list[str] = list(refused or [])
    if app.config["ENV"] == "production":
        settings += config_module.production_problems(app.config)
    elif not refused:
        settings.append(
            f"ENV is {app.config['ENV']!r}: production must run with ENV=production "
            "(which refuses built-in secrets)"
        )
    production = refused or app.config["ENV"] == "production"
    if production and app.extensions["jobs"].backend.name != "rq":
        settings.append("REDIS_URL is empty or JOBS_INLINE is on: production runs jobs in rq")
    if production and not app.config["MAIL_HOST"]:
        settings.append("MAIL_HOST is not set: mail would go to the demo sink, not to anyone")
    if db.engine.url.get_backend_name() != "postgresql":
        settings.append("DATABASE_URL is not PostgreSQL: production runs on PostgreSQL")
    if not app.config["READYZ_TOKEN"]:
        settings.append("READYZ_TOKEN is not set: /readyz answers loopback only")
    checks = readiness(app)
    if online:
        checks += [check for check in [mail_server(app.config)] if check is not None]
        checks += upstreams(app.config)
    return settings, checks


def log_failures(app: Flask, where: str) -> None:
    """Start-up: a warning per failing check (the process starts anyway; it may be the
    first of a deploy, before the database is migrated)."""
    with app.app_context():
        try:
            failing = [c for c in readiness(app) if not c.ok]
        except Exception:
            log.exception("%s: the start-up checks failed", where)
            return
        finally:
            db.session.remove()
            db.engine.dispose()  # a gunicorn master forks its workers after this
    for check in failing:
        log.warning("%s start-up check %s failed: %s", where, check.name, check.details)


@bp.get("/healthz")
def healthz():
    """Alive: no database, no Redis, no login."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    if not _may_read_readiness():
        message = "/readyz needs READYZ_TOKEN (header X-Readyz-Token or ?token=) or loopback"
        return jsonify(status="forbidden", message=message), 403
    checks = readiness(current_app)
    failed = [c.name for c in checks if c.required and not c.ok]
    body = {
        "status": "fail" if failed else "ok",
        "failed": failed,
        "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "checks": {c.name: c.as_json() for c in checks},
    }
    response = jsonify(body)
    response.status_code = 503 if failed else 200
    response.headers["Cache-Control"] = "no-store"
    return response


def _may_read_readiness() -> bool:
    expected = current_app.config["READYZ_TOKEN"]
    given = request.headers.get("X-Readyz-Token") or request.args.get("token") or ""
    if expected and given and hmac.compare_digest(given.encode(), str(expected).encode()):
        return True
    try:
        # Behind a proxy, PROXY_HOPS makes this the client's address, not the proxy's.
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False
