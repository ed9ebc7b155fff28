"""Real processes for the tests of how collector runs: a private Redis server on a loopback
port (stopped and started by the test), scratch PostgreSQL databases, free ports, waiting
for an HTTP answer, and the processes of a session (``start_new_session``)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import redis
import requests
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], object], seconds: float, what: str) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"not within {seconds} s: {what}")


def answer(url: str, **kwargs) -> requests.Response | None:
    """The response at ``url``, or None when nothing answers there yet."""
    try:
        return requests.get(url, timeout=15, **kwargs)
    except requests.RequestException:
        return None


def wait_status(url: str, status: int, seconds: float) -> requests.Response:
    def found():
        response = answer(url)
        # In a list: a Response is falsy when its status is 4xx or 5xx.
        return [response] if response is not None and response.status_code == status else None

    return wait_until(found, seconds, f"{url} answers {status} (last: {_last(url)})")[0]


def _last(url: str) -> str:
    response = answer(url)
    return "nothing" if response is None else f"{response.status_code} {response.text[:300]}"


class RedisServer:
    """``redis-server`` on a loopback port, without persistence: stopping it loses its data,
    as a Redis replaced by a new one does."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self) -> None:
        argv = ["redis-server", "--port", str(self.port), "--bind", HOST, "--save", ""]
        argv += ["--appendonly", "no", "--dir", str(self.workdir)]
        log = (self.workdir / "redis.log").open("ab")
        self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        conn = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        wait_until(lambda: _pings(conn), 10, "redis-server answers")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def _pings(conn: redis.Redis) -> bool:
    try:
        return bool(conn.ping())
    except redis.RedisError:
        return False


@contextlib.contextmanager
def scratch_database(suffix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database beside the test database, dropped afterwards."""
    url = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    base, _, name = url.rpartition("/")
    scratch = f"{name}_{suffix}"
    drop(base, scratch)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(scratch)))
    try:
        yield f"{base}/{scratch}"
    finally:
        drop(base, scratch)


def drop(base: str, name: str) -> None:
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        statement = "DROP DATABASE IF EXISTS {} WITH (FORCE)"
        conn.execute(sql.SQL(statement).format(sql.Identifier(name)))


def session_members(sid: int) -> list[int]:
    """Every live process whose session id is ``sid`` (read from /proc)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if len(fields) > 3 and fields[0] != "Z" and int(fields[3]) == sid:
            members.append(int(entry.name))
    return members


def kill_session(sid: int) -> None:
    for pid in session_members(sid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def clean_env(**settings: str) -> dict[str, str]:
    """The environment of a collector process the test starts: the test run's own
    settings removed, ``settings`` and the virtualenv's bin first on PATH."""
    env = {k: v for k, v in os.environ.items() if k not in _COLLECTOR_KEYS}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(settings)
    return env


def _collector_keys() -> set[str]:
    from collector.config import KEYS

    return {key.name for key in KEYS} | {"FLASK_ENV"}


_COLLECTOR_KEYS = _collector_keys()


def started_with(setting: str) -> list[int]:
    """Every live process whose environment holds ``setting`` (``KEY=value``): all the
    processes a test started, whatever session or group they moved to."""
    wanted = setting.encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if wanted in environ and state != "Z":
            found.append(int(entry.name))
    return found
