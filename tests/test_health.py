"""``/healthz`` (alive, nothing else), ``/readyz`` (the database, its migrations, Redis, the
queues, the clock, the Teamleader and Exact connections) and ``flask doctor``, which reads
the same checks and adds the settings, the mail server and the upstreams."""

from __future__ import annotations

import re
import secrets
import socket
import time

import pytest
import responses
from click.testing import CliRunner
from cryptography.fernet import Fernet
from flask.cli import cli as flask_cli
from sqlalchemy import text

from collector.core.oauth import ConnectionStatus
from collector.extensions import db
from collector.teamleader.models import TeamleaderConnection
from collector.web import health
from tests.conftest import TEST_REDIS_URL, _test_database_url

OUTSIDE = {"REMOTE_ADDR": "203.0.113.7"}


def beat(redis_conn, age: float = 0.0) -> None:
    """A clock's heartbeat ``age`` seconds ago, as rq cron writes it."""
    redis_conn.zadd(health.CRON_REGISTRY, {"host:1:abc": time.time() - age})


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_healthz_answers_without_login_or_anything_else(client, app, monkeypatch):
    # Not even Redis: nothing is asked.
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{closed_port()}/0")

    response = client.get("/healthz", environ_base=OUTSIDE)

    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_is_green_with_every_check_and_says_what_it_found(client, app, redis_conn):
    beat(redis_conn, age=30)
    app.extensions["jobs"].enqueue(health.log_failures, "x", queue="low")

    response = client.get("/readyz")

    assert response.status_code == 200, response.json
    body = response.json
    assert body["status"] == "ok" and body["failed"] == []
    checks = body["checks"]
    assert checks["database"]["ok"] and checks["redis"]["ok"]
    assert checks["migrations"]["database"] == checks["migrations"]["code"]
    assert 29 <= checks["schedule"]["heartbeat_age_seconds"] < 60
    assert checks["queues"]["low"]["waiting"] == 1
    assert checks["queues"]["low"]["oldest_age_seconds"] >= 0
    assert checks["queues"]["high"] == {"waiting": 0, "oldest_age_seconds": None}
    assert checks["teamleader"] == {"ok": True, "required": False, "state": "disconnected"}
    assert response.headers["Cache-Control"] == "no-store"
    text_ = response.get_data(as_text=True)
    for secret in (app.config["SECRET_KEY"], app.config["DATABASE_URL"], TEST_REDIS_URL):
        assert secret not in text_


def test_readyz_is_red_and_says_which_check_when_redis_does_not_answer(
    client, app, redis_conn, monkeypatch
):
    beat(redis_conn)
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{closed_port()}/0")

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json["failed"] == ["redis", "schedule"]
    assert "ConnectionError" in response.json["checks"]["redis"]["error"]
    assert response.json["checks"]["database"]["ok"]


def test_a_stale_or_missing_clock_makes_readyz_red(client, app, redis_conn):
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json["failed"] == ["schedule"]
    assert "no clock process" in response.json["checks"]["schedule"]["error"]

    beat(redis_conn, age=health.SCHEDULE_STALE_AFTER + 60)
    response = client.get("/readyz")
    assert response.json["failed"] == ["schedule"]
    assert "has not beaten for" in response.json["checks"]["schedule"]["error"]


def test_a_database_behind_the_code_is_not_ready(app):
    db.session.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    try:
        check = health.migrations()
    finally:
        db.session.rollback()

    assert not check.ok and check.required
    assert check.details["database"] == ["older"]
    assert "db upgrade" in check.details["error"]
    assert health.migrations().ok


def test_a_connection_that_needs_a_person_is_reported_not_required(client, app, redis_conn):
    beat(redis_conn)
    db.session.add(
        TeamleaderConnection(
            account_id="acc-1", webhook_token="t" * 32, status=ConnectionStatus.RECONNECT_NEEDED
        )
    )
    db.session.commit()

    response = client.get("/readyz")

    assert response.status_code == 200
    teamleader = response.json["checks"]["teamleader"]
    assert teamleader["state"] == "reconnect" and not teamleader["ok"]
    assert not teamleader["required"]


def test_readyz_needs_loopback_or_the_token(client, app, redis_conn, monkeypatch):
    beat(redis_conn)
    assert client.get("/readyz", environ_base=OUTSIDE).status_code == 403

    token = secrets.token_urlsafe(24)
    monkeypatch.setitem(app.config, "READYZ_TOKEN", token)
    assert client.get("/readyz", environ_base=OUTSIDE).status_code == 403
    wrong = {"X-Readyz-Token": token + "x"}
    assert client.get("/readyz", headers=wrong, environ_base=OUTSIDE).status_code == 403
    right = {"X-Readyz-Token": token}
    assert client.get("/readyz", headers=right, environ_base=OUTSIDE).status_code == 200
    by_query = client.get(f"/readyz?token={token}", environ_base=OUTSIDE)
    assert by_query.status_code == 200
    refused = client.get("/readyz", environ_base=OUTSIDE)
    assert refused.json == {
        "status": "forbidden",
        "message": "/readyz needs READYZ_TOKEN (header X-Readyz-Token or ?token=) or loopback",
    }


def production_env(tmp_root, **settings) -> dict:
    return {
        "ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "PUBLIC_BASE_URL": "https://collect.example.com",
        "DATABASE_URL": _test_database_url(tmp_root),
        "REDIS_URL": TEST_REDIS_URL,
        "INSTANCE_PATH": str(tmp_root / "instance"),
        "READYZ_TOKEN": "a-token",
        **settings,
    }


def doctor(env: dict, *args: str):
    return CliRunner().invoke(flask_cli, ["--app", "collector", "doctor", *args], env=env)


def test_doctor_names_every_failing_connection_and_exits_1(_app, redis_conn, tmp_root):
    beat(redis_conn)
    nowhere = f"http://127.0.0.1:{closed_port()}"
    env = production_env(
        tmp_root,
        MAIL_HOST="127.0.0.1",
        MAIL_PORT=str(closed_port()),
        TEAMLEADER_API_URL=f"{nowhere}/api",
        TEAMLEADER_AUTH_URL=f"{nowhere}/auth",
        PAYMENT_PROVIDER_URL=f"{nowhere}/v2",
        EXACT_BASE_URL=f"{nowhere}/exact/{{country}}",
    )

    result = doctor(env)

    assert result.exit_code == 1, result.output
    for name in ("mail", "teamleader_api", "teamleader_auth", "payment_provider", "exact"):
        assert f"FAIL {name}: error=" in result.output
    assert "ok   database" in result.output and "ok   redis" in result.output
    assert "failing: mail, teamleader_api, teamleader_auth, payment_provider, exact" in (
        result.output
    )
    assert env["SECRET_KEY"] not in result.output


def test_doctor_lists_what_production_refuses_and_still_checks_connections(
    _app, redis_conn, tmp_root
):
    env = production_env(tmp_root, SECRET_KEY="short", READYZ_TOKEN="")

    result = doctor(env, "--offline")

    assert result.exit_code == 1
    assert "problem: SECRET_KEY is 5 characters long" in result.output
    assert "problem: READYZ_TOKEN is not set" in result.output
    assert "problem: MAIL_HOST is not set" in result.output
    assert "ok   database" in result.output
    assert "FAIL schedule" in result.output  # no clock beats in this test


# Marked postgres: on SQLite the doctor rightly says production needs PostgreSQL.
@pytest.mark.postgres
@responses.activate
def test_doctor_passes_a_complete_production_setup(_app, redis_conn, tmp_root, smtp_server):
    beat(redis_conn)
    env = production_env(
        tmp_root, MAIL_HOST=smtp_server.host, MAIL_PORT=str(smtp_server.port), MAIL_SECURITY="none"
    )
    # Any answer will do: the host is there.
    responses.head(re.compile(r"https://api\.focus\.teamleader\.eu/?"), status=404)
    responses.head(re.compile(r"https://focus\.teamleader\.eu/?"), status=404)
    responses.head(re.compile(r"https://api\.mollie\.com/v2/?"), status=401)
    responses.head(re.compile(r"https://start\.exactonline\.be/?"), status=302)

    result = doctor(env)

    assert result.exit_code == 0, result.output
    assert "nothing missing or unsafe" in result.output
    assert "FAIL" not in result.output
    assert result.output.strip().endswith("Ready for production.")
