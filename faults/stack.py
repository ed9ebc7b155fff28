"""Everything the suite runs, on loopback: PostgreSQL's ``collector_faults`` database, its
own Redis on port 6390, the sandbox emulators, the web app under gunicorn, two rq workers,
rq's cron and an SMTP server. One environment configures every collector process, as the
Makefile's DEMO_ENV does for the demo, in production mode.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis
import requests
from cryptography.fernet import Fernet
from psycopg import sql
from rq import Worker

from faults.processes import ROOT, Service, Supervisor, session_members
from faults.smtp_sink import SmtpSink

HOST = "127.0.0.1"
PG_SERVER = f"postgresql://postgres@{HOST}:5432"
DATABASE = "collector_faults"
REDIS_PORT = 6390
SANDBOX_PORT, WEB_PORT, SMTP_PORT = 5601, 5602, 5603
PORTS = (REDIS_PORT, SANDBOX_PORT, WEB_PORT, SMTP_PORT)
WORKERS = 2
# Teamleader's budget is not what this suite is about (scenario 7 injects its 429s): the
# sandbox and our own limiter allow far more than any scenario calls.
RATE_LIMIT = 100_000
BIN = Path(sys.executable).parent


def collector_env(instance: Path) -> dict[str, str]:
    """The configuration of every collector process (``collector/config.py`` keys)."""
    sandbox = f"http://{HOST}:{SANDBOX_PORT}"
    return {
        "ENV": "production",
        # Production refuses a weak key (collector/config.py); a new one each run.
        "SECRET_KEY": secrets.token_urlsafe(48),
        "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "DATABASE_URL": f"{PG_SERVER}/{DATABASE}",
        "REDIS_URL": f"redis://{HOST}:{REDIS_PORT}/0",
        "INSTANCE_PATH": str(instance),
        "DOCUMENT_STORAGE": str(instance / "documents"),
        "LOG_LEVEL": "INFO",
        "PUBLIC_BASE_URL": f"http://{HOST}:{WEB_PORT}",
        "TEAMLEADER_AUTH_URL": f"{sandbox}/teamleader",
        "TEAMLEADER_API_URL": f"{sandbox}/teamleader",
        "TEAMLEADER_CLIENT_ID": "collector-sandbox",
        "TEAMLEADER_CLIENT_SECRET": "sandbox-secret",
        "TEAMLEADER_RATE_LIMIT": str(RATE_LIMIT),
        "PAYMENT_PROVIDER_URL": f"{sandbox}/provider/v2",
        "PAYMENT_PROVIDER_API_KEY": "test_sandbox",
        "EXACT_BASE_URL": f"{sandbox}/exact/{{country}}",
        "EXACT_CLIENT_ID": "collector-sandbox",
        "EXACT_CLIENT_SECRET": "sandbox-secret",
        "MAIL_HOST": HOST,
        "MAIL_PORT": str(SMTP_PORT),
        "MAIL_SECURITY": "none",
        "MAIL_FROM": "collector@faults.example",
    }


@dataclass
class Stack:
    """The running processes and how to reach them."""

    logs: Path
    env: dict[str, str]
    redis: Service
    sandbox: Service
    web: Service
    workers: list[Service]
    cron: Service
    smtp: SmtpSink
    supervisor: Supervisor
    started: list[Service] = field(default_factory=list)

    @property
    def web_url(self) -> str:
        return f"http://{HOST}:{WEB_PORT}"

    @property
    def sandbox_url(self) -> str:
        return f"http://{HOST}:{SANDBOX_PORT}"

    @property
    def database_url(self) -> str:
        return self.env["DATABASE_URL"]

    def redis_client(self) -> redis.Redis:
        return redis.Redis(host=HOST, port=REDIS_PORT, socket_timeout=5, socket_connect_timeout=2)

    def start(self) -> None:
        """Redis, the sandbox and the SMTP server; the collector processes come later
        (``start_collector``), once the database is migrated and set up."""
        self.smtp.start()
        for service in (self.redis, self.sandbox):
            service.start()
            self.started.append(service)

    def start_collector(self) -> None:
        for service in (self.web, *self.workers, self.cron):
            service.start(timeout=60)
            self.started.append(service)
        self.supervisor.start()

    def close(self) -> None:
        """Stop everything this suite started, whatever state it is in."""
        with contextlib.suppress(Exception):
            self.supervisor.stop()
        for service in reversed(self.started):
            with contextlib.suppress(Exception):
                service.stop()
        with contextlib.suppress(Exception):
            self.smtp.stop()


def build(logs: Path) -> Stack:
    """The services, not started yet; logs go to ``logs``."""
    instance = logs / "instance"
    instance.mkdir(parents=True, exist_ok=True)
    env = collector_env(instance)
    # PYTHONPATH: every process imports the same tree as the suite.
    proc_env = {"PATH": f"{BIN}:/usr/bin:/bin", "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    proc_env.update(env)
    redis_service = Service(
        "redis",
        ["redis-server", "--port", str(REDIS_PORT), "--bind", HOST, "--save", ""]
        + ["--appendonly", "no"],
        proc_env,
        logs / "redis.log",
        ready=lambda: _redis_answers(),
        keep_alive=False,
    )
    sandbox = Service(
        "sandbox",
        [sys.executable, "-m", "sandbox", "--port", str(SANDBOX_PORT)]
        + ["--teamleader-rate-limit", str(RATE_LIMIT), "--allow-local-webhooks"],
        proc_env,
        logs / "sandbox.log",
        ready=lambda: _answers(f"http://{HOST}:{SANDBOX_PORT}/teamleader/_control/"),
    )
    web = Service(
        "web",
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "4"]
        + ["--bind", f"{HOST}:{WEB_PORT}", "--timeout", "60", "--access-logfile", "-"]
        + ["collector:create_app()"],
        proc_env,
        logs / "web.log",
        ready=lambda: _answers(f"http://{HOST}:{WEB_PORT}/login"),
    )
    workers = [_worker(i, proc_env, logs) for i in range(1, WORKERS + 1)]
    cron = Service(
        "cron",
        [str(BIN / "rq"), "cron", "collector.cron", "--url", env["REDIS_URL"]],
        proc_env,
        logs / "cron.log",
    )
    every = [sandbox, web, *workers, cron]
    return Stack(
        logs=logs,
        env=env,
        redis=redis_service,
        sandbox=sandbox,
        web=web,
        workers=workers,
        cron=cron,
        smtp=SmtpSink(HOST, SMTP_PORT),
        supervisor=Supervisor(every),
    )


def _worker(number: int, env: dict, logs: Path) -> Service:
    service = Service(
        f"worker-{number}", [sys.executable, "worker.py"], env, logs / f"worker-{number}.log"
    )
    service.ready = lambda: _worker_registered(service)
    return service


# worker.py runs a payment lane beside its general worker (WORKER_LANES=lanes).
WORKERS_PER_PROCESS = 2


def _worker_registered(service: Service) -> bool:
    """rq lists both workers of this worker.py (the general one, with the process id, and
    its payment lane, in the same session): it has finished starting up. Their rq names
    are noted, to tell later which of our workers runs a job."""
    try:
        workers = Worker.all(connection=redis.Redis(host=HOST, port=REDIS_PORT))
    except redis.RedisError:
        return False
    ours = set(session_members(service.pid)) if service.pid else set()
    names = {worker.name for worker in workers if worker.pid in ours}
    if len(names) < WORKERS_PER_PROCESS:
        return False
    service.rq_names = names
    return True


def ports_in_use() -> list[int]:
    """The suite's ports something else listens on (another run of the suite?)."""
    return [port for port in PORTS if not _free(port)]


def _free(port: int) -> bool:
    with socket.socket() as probe:
        # As the servers do: connections still closing on the port do not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def _redis_answers() -> bool:
    try:
        return bool(redis.Redis(host=HOST, port=REDIS_PORT, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def fresh_database() -> None:
    """Drop and create ``collector_faults`` (connections to it are closed first)."""
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=5) as conn:
        name = sql.Identifier(DATABASE)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def drop_database() -> None:
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE))
        )
