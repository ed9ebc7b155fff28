"""The processes a bench runs beside itself, as production runs them: a WSGI app (the
sandbox, our web server) served in a child process of its own, a scratch Redis database,
and ``worker.py`` processes with the app's settings; and waiting until their queues are
quiet.

Imported by ``bench/payment_latency.py`` and ``bench/worker_scaling.py`` (a script's own
folder is first on ``sys.path``)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path

import redis
from rq import Queue, Worker
from werkzeug.serving import make_server

from collector.config import KEYS
from collector.extensions import db
from collector.runtime.queue import QUEUES

ROOT = Path(__file__).resolve().parent.parent
SERVED: dict[str, int] = {}  # base URL → the pid of the process serving it (bench/cpu.py)


@contextmanager
def serving(app, ready=None, after_fork=None):
    """Serve ``app`` on a free port in a child process of its own, as the real services
    and our web server have their own processes (one process serving the sandbox, our
    webhooks and the bench would measure its own lock instead); yields its base URL.
    ``ready(url)`` runs before the child is forked, ``after_fork()`` first in the child."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    if ready is not None:
        ready(url)
    child = get_context("fork").Process(target=_serve, args=(server, after_fork), daemon=True)
    child.start()
    SERVED[url] = child.pid
    server.socket.close()
    try:
        yield url
    finally:
        child.terminate()
        child.join(timeout=10)


def _serve(server, after_fork) -> None:
    if after_fork is not None:
        after_fork()
    server.serve_forever()


@contextmanager
def scratch_redis(url: str):
    """The Redis database at ``url``, empty before and after."""
    connection = redis.Redis.from_url(url)
    connection.flushdb()
    try:
        yield connection
    finally:
        connection.flushdb()


@contextmanager
def workers(count: int, lanes: str, app, log_dir: str, connection: redis.Redis):
    """``count`` ``worker.py`` processes with the app's settings (each two rq workers,
    unless ``lanes`` is "single"); yields their log files."""
    env = {**os.environ, **{key.name: str(app.config[key.name]) for key in KEYS}}
    env["WORKER_LANES"] = lanes
    logs = [Path(log_dir, f"worker-{i}.log") for i in range(count)]
    procs = []
    try:
        for path in logs:
            with path.open("wb") as out:
                procs.append(
                    subprocess.Popen(  # noqa: S603  (our own interpreter and script)
                        [sys.executable, str(ROOT / "worker.py")],
                        cwd=ROOT,
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
        per_process = 1 if lanes == "single" else 2
        _wait_for_workers(count * per_process, connection, procs, logs)
        yield logs
    finally:
        for proc in procs:
            proc.terminate()  # rq's warm shutdown: the job in hand finishes first
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_for_workers(count, connection, procs, logs, timeout: float = 120) -> None:
    # Generous: eight rq processes importing the app on two busy cores take a while.
    deadline = time.monotonic() + timeout
    while len(Worker.all(connection=connection)) < count:
        exited = [p for p in procs if p.poll() is not None]
        if exited or time.monotonic() > deadline:
            tail = logs[0].read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the rq workers did not start; worker-0.log ends:\n{tail}")
        time.sleep(0.1)


def settle(connection: redis.Redis, timeout: float = 120, quiet: float = 1.0) -> None:
    """Wait until no job has been queued or running for ``quiet`` seconds (the Teamleader
    sandbox's own webhooks keep adding jobs for a moment after the last payment)."""
    queues = [Queue(name, connection=connection) for name in QUEUES]
    deadline = time.monotonic() + timeout
    idle_since = None
    while time.monotonic() < deadline:
        busy = any(q.count or q.started_job_registry.count for q in queues)
        if busy:
            idle_since = None
        elif idle_since is None:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since >= quiet:
            return
        time.sleep(0.1)
    print(f"  ! jobs still queued or running after {timeout:g} s", file=sys.stderr)


def dispose(app) -> None:
    """Close the app's pooled connections (a forked or finished process must not share
    them)."""
    with app.app_context():
        db.engine.dispose()
