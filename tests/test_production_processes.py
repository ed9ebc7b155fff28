"""How collector runs as real processes: ``make serve`` (the Procfile under honcho) up to
a green ``/readyz``, red while Redis is down and green again once it is back, and stopped
cleanly; concurrent ``db upgrade`` runs that take turns on the advisory lock; a backup
restored into a dropped database and store; and ``make run`` (``flask serve``) that keeps
its terminal to the address and the login and stops without a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import psycopg
import pytest
import redis
import requests
from rq import Worker

from tests.support.processes import (
    BIN,
    HOST,
    ROOT,
    RedisServer,
    clean_env,
    free_port,
    kill_session,
    scratch_database,
    session_members,
    started_with,
    wait_status,
    wait_until,
)

MAKE = ["make", "--no-print-directory", "-o", ".venv/.installed"]  # no reinstall mid-test


@pytest.fixture
def private_redis(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def start(argv: list[str], env: dict, log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603 (fixed argv)
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stopped(proc: subprocess.Popen, sig: int, seconds: float) -> int:
    """Send ``sig`` to ``proc``'s process group, as a terminal's Ctrl-C (SIGINT) or a
    supervisor (SIGTERM) does, and wait for it and every process of its session."""
    os.killpg(proc.pid, sig)
    try:
        code = proc.wait(timeout=seconds)
        wait_until(lambda: not session_members(proc.pid), seconds, "the session is empty")
    finally:
        kill_session(proc.pid)
    return code


@pytest.mark.postgres
def test_make_serve_runs_the_procfile_to_a_green_readyz_and_stops_cleanly(tmp_path, private_redis):
    port = free_port()
    base = f"http://{HOST}:{port}"
    env_file = tmp_path / "serve.env"
    log = tmp_path / "serve.log"
    with scratch_database("serve") as database:
        env = clean_env(
            DATABASE_URL=database,
            REDIS_URL=private_redis.url,
            INSTANCE_PATH=str(tmp_path / "instance"),
            WEB_WORKERS="1",
            WEB_THREADS="2",
        )
        argv = [*MAKE, "serve", f"SERVE_ENV={env_file}", f"SERVE_PORT={port}"]
        proc = start(argv, env, log)
        try:
            wait_status(f"{base}/healthz", 200, 90)
            ready = wait_status(f"{base}/readyz", 200, 60).json()
            assert ready["checks"]["schedule"]["heartbeat_age_seconds"] < 60
            assert ready["checks"]["migrations"]["ok"]
            conn = redis.Redis.from_url(private_redis.url)
            # One worker.py: the payment lane beside the general worker.
            wait_until(lambda: len(Worker.all(connection=conn)) == 2, 60, "two rq workers")
            assert (env_file.stat().st_mode & 0o777) == 0o600
            assert "ENV=production" in env_file.read_text()
            assert "Traceback" not in log.read_text()  # a clean start
            # The jobs the worker runs (the clock's first rounds) add up in the web's
            # /metrics: every process counts in one folder (PROMETHEUS_MULTIPROC_DIR).
            wait_until(lambda: worker_jobs_in(f"{base}/metrics"), 90, "a worker's job in /metrics")
            assert list((tmp_path / "instance" / "prometheus").glob("*.db"))

            private_redis.stop()
            down = wait_status(f"{base}/readyz", 503, 30).json()
            assert "redis" in down["failed"]

            private_redis.start()
            # Redis came back empty: the workers start again and the clock beats again.
            wait_status(f"{base}/readyz", 200, 90)
            wait_until(lambda: len(Worker.all(connection=conn)) == 2, 60, "two rq workers again")
            # (rq's scheduler, inside worker.py, logs a traceback when Redis goes away and
            # is started again by its worker: what follows must be clean.)
            before_stop = len(log.read_text())
        finally:
            # make → serve.py (exec'd into honcho) → web, worker, clock: make passes the
            # SIGTERM on to honcho, which stops them all.
            code = stopped(proc, signal.SIGTERM, 60)
        output = log.read_text()
        assert "Running upgrade" in output  # the release step ran first
        assert "Traceback" not in output[before_stop:], output[before_stop:]
        assert code in (0, 2, -signal.SIGTERM), output[-3000:]


def worker_jobs_in(url: str) -> bool:
    """True when /metrics counts a job that finished (only workers run jobs here)."""
    text = requests.get(url, timeout=10).text
    return any(
        line.startswith("collector_jobs_total{") and 'outcome="finished"' in line
        for line in text.splitlines()
    )


UPGRADE_LOCK = 7_203_120_001  # migrations/env.py's


@pytest.mark.postgres
def test_concurrent_upgrades_take_turns_and_upgrade_once(tmp_path):
    with scratch_database("upgrade") as database:
        env = clean_env(DATABASE_URL=database, REDIS_URL="", INSTANCE_PATH=str(tmp_path))
        flask = [str(BIN / "flask"), "--app", "collector", "db", "upgrade"]
        logs = [tmp_path / "first.log", tmp_path / "second.log"]
        with psycopg.connect(database, autocommit=True) as holder:
            holder.execute("SELECT pg_advisory_lock(%s)", (UPGRADE_LOCK,))
            procs = [start(flask, env, log) for log in logs]
            waiting = (
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
            wait_until(
                lambda: holder.execute(waiting).fetchone()[0] == 2,
                60,
                "both upgrades wait for the lock",
            )
            assert all(proc.poll() is None for proc in procs)
            holder.execute("SELECT pg_advisory_unlock(%s)", (UPGRADE_LOCK,))
        codes = [proc.wait(timeout=120) for proc in procs]
        outputs = [log.read_text() for log in logs]
        assert codes == [0, 0], outputs
        # One ran every migration; the other found the database at head.
        assert sorted("Running upgrade" in out for out in outputs) == [False, True], outputs
        with psycopg.connect(database) as conn:
            versions = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        assert len(versions) == 1


@pytest.mark.postgres
def test_a_backup_restores_a_dropped_database_and_store(tmp_path):
    storage = tmp_path / "documents"
    backup_dir = tmp_path / "backup"
    pdf = b"%PDF-1.4 restored bytes"
    with scratch_database("backup") as database:
        env = clean_env(
            DATABASE_URL=database,
            REDIS_URL="",
            INSTANCE_PATH=str(tmp_path / "instance"),
            DOCUMENT_STORAGE=str(storage),
        )
        flask = [str(BIN / "flask"), "--app", "collector"]
        subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True)  # noqa: S603
        create = [*flask, "create-user", "kept@example.com", "--password", "a long password 1"]
        subprocess.run(create, cwd=ROOT, env=env, check=True)  # noqa: S603
        (storage / "ab").mkdir(parents=True)
        (storage / "ab" / "abcdef.pdf").write_bytes(pdf)

        made = run_make(["backup", f"BACKUP_DIR={backup_dir}"], env)
        assert "backed up" in made.stdout and "1 files" in made.stdout, made.stdout

        base, _, name = database.rpartition("/")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        for path in sorted(storage.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        storage.rmdir()

        restored = run_make(["restore", f"RESTORE_DIR={backup_dir}"], env)
        assert "rows and files match the backup" in restored.stdout, restored.stdout + (
            restored.stderr
        )
        with psycopg.connect(database) as conn:
            emails = conn.execute('SELECT email FROM "user"').fetchall()
        assert emails == [("kept@example.com",)]
        assert (storage / "ab" / "abcdef.pdf").read_bytes() == pdf

        again = run_make(["restore", f"RESTORE_DIR={backup_dir}"], env, check=False)
        assert again.returncode != 0
        assert "already holds tables: restore into an empty database" in again.stderr


def run_make(args: list[str], env: dict, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(  # noqa: S603 (fixed argv)
        [*MAKE, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.mark.parametrize("with_redis", [False, True], ids=["without-redis", "with-redis"])
def test_make_run_ends_its_output_with_the_login_and_stops_quietly(tmp_path, request, with_redis):
    redis_server = request.getfixturevalue("private_redis") if with_redis else None
    instance = tmp_path / "instance"
    port, sandbox_port = free_port(), free_port()
    env = clean_env(
        DATABASE_URL="",  # SQLite in the instance folder, as `make run` does
        REDIS_URL=redis_server.url if redis_server else "",
        INSTANCE_PATH=str(instance),
    )
    flask = [str(BIN / "flask"), "--app", "collector"]
    for step in (["db", "upgrade"], ["demo-setup"]):
        subprocess.run([*flask, *step], cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: S603
    log = tmp_path / "terminal.log"
    argv = [*flask, "serve", "--port", str(port), "--sandbox-port", str(sandbox_port)]
    proc = start(argv, env, log)
    try:
        wait_until(lambda: "Open http" in log.read_text(), 60, "the banner")
        for _ in range(5):
            wait_status(f"http://{HOST}:{port}/login", 200, 10)
        time.sleep(1)
        terminal = log.read_text()
        lines = [line for line in terminal.splitlines() if line.strip()]
        assert lines[-1] == f" * Open http://{HOST}:{port}/  (Ctrl-C stops everything)"
        login = (instance / "demo-login.txt").read_text().strip()
        assert lines[-2] == f" * Demo login: {login}"
        assert "GET /login" not in terminal  # the request lines go to the log file
        assert len(lines) <= 8, terminal
        if redis_server:  # the worker and the clock are up (they import for seconds)
            conn = redis.Redis.from_url(redis_server.url)
            wait_until(lambda: len(Worker.all(connection=conn)) == 2, 60, "the workers")
            wait_until(lambda: conn.zcard("rq:cron_schedulers") == 1, 60, "the clock")
    finally:
        # Ctrl-C in a terminal: SIGINT to the foreground process group (the children
        # have groups of their own and are stopped by serve, once).
        code = stopped(proc, signal.SIGINT, 40)
    # The sandbox, the worker (its payment lane and rq's scheduler) and the clock too.
    mine = f"INSTANCE_PATH={instance}"
    wait_until(lambda: not started_with(mine), 30, "every child stopped")
    logs = instance / "logs"
    assert "GET /login" in (logs / "web.log").read_text()
    everything = log.read_text() + "".join(p.read_text() for p in logs.glob("*.log"))
    assert "Traceback" not in everything, everything[-3000:]
    assert code == 0
    if redis_server:
        conn = redis.Redis.from_url(redis_server.url)
        assert conn.zcard("rq:cron_schedulers") == 0  # the clock said goodbye
        assert "clock stopping" in (logs / "clock.log").read_text()
    assert os.path.exists(logs / "sandbox.log")
