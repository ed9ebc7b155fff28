"""Login throttling (per email typed, per client address, shared through Redis), one
password check whatever the email, and an audit row for every attempt."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from werkzeug.security import generate_password_hash

from collector.accounts import passwords
from collector.accounts.models import AuditEvent, Role, User
from collector.accounts.throttle import LoginThrottle, MemoryCounter, RedisCounter
from collector.extensions import db
from tests.conftest import csrf_token, login

WRONG = "not the password"
TOO_MANY = "Too many attempts; try again in 15 minutes."


def audit_rows(action: str | None = None) -> list[AuditEvent]:
    query = db.select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.filter_by(action=action)
    db.session.expire_all()
    return list(db.session.scalars(query))


def test_five_failures_lock_the_email_even_against_the_right_password(client, admin, clock):
    for _ in range(5):
        assert login(client, admin.email, WRONG).status_code == 400
    refused = login(client, admin.email)
    assert refused.status_code == 429
    assert TOO_MANY in refused.get_data(as_text=True)
    assert client.get("/").status_code == 302

    clock.advance(minutes=14)
    assert login(client, admin.email).status_code == 429
    clock.advance(minutes=1, seconds=1)
    assert login(client, admin.email).status_code == 302


def test_the_wait_is_told_in_whole_minutes_left(client, admin, clock):
    for _ in range(5):
        login(client, admin.email, WRONG)
    clock.advance(minutes=13, seconds=30)
    page = login(client, "ADMIN@example.com ").get_data(as_text=True)
    assert "Too many attempts; try again in 2 minutes." in page


def test_a_success_clears_the_emails_count(client, admin):
    for _ in range(4):
        login(client, admin.email, WRONG)
    assert login(client, admin.email).status_code == 302
    client.post("/logout", data={"csrf_token": _token(client)})
    for _ in range(4):
        login(client, admin.email, WRONG)
    assert login(client, admin.email).status_code == 302


def test_twenty_failures_from_one_address_lock_it_for_every_email(client, admin, viewer):
    for n in range(20):
        assert login(client, f"guess{n}@example.com", WRONG).status_code == 400
    refused = login(client, viewer.email)
    assert refused.status_code == 429
    assert TOO_MANY in refused.get_data(as_text=True)
    # Another address is not held back.
    other = client.application.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.50"
    assert login(other, viewer.email).status_code == 302


def test_the_count_is_shared_through_redis_by_every_process(app, redis_conn, clock):
    one = LoginThrottle(RedisCounter(redis_conn), account_limit=3)
    # Another process: its own connection to the same Redis.
    two = LoginThrottle(
        RedisCounter(redis.Redis.from_url(app.config["REDIS_URL"])), account_limit=3
    )
    for _ in range(3):
        one.failed("ann@example.com", "192.0.2.1", clock.now())
    assert two.wait("Ann@Example.com", "192.0.2.9", clock.now()) == timedelta(minutes=15)
    assert two.wait("bob@example.com", "192.0.2.9", clock.now()) is None
    assert redis_conn.keys("login:account:*")  # the email only hashed
    assert not [k for k in redis_conn.scan_iter() if b"ann" in k]


def test_without_redis_each_process_counts_in_memory(clock, closed_port):
    memory = MemoryCounter()
    away = RedisCounter(redis.Redis(port=closed_port, socket_connect_timeout=0.2), memory)
    throttle = LoginThrottle(away, account_limit=2, window=timedelta(minutes=5))
    throttle.failed("ann@example.com", None, clock.now())
    throttle.failed("ann@example.com", None, clock.now())
    assert throttle.wait("ann@example.com", None, clock.now()) == timedelta(minutes=5)
    clock.advance(minutes=5)
    assert throttle.wait("ann@example.com", None, clock.now()) is None


def test_every_attempt_leaves_an_audit_row_without_the_password(client, admin):
    login(client, "nobody@example.com", "hunter2hunter2")
    login(client, admin.email, "hunter2hunter2")
    login(client, admin.email)
    failed = audit_rows("login.failed")
    assert [(r.actor, r.details["reason"]) for r in failed] == [
        ("nobody@example.com", "unknown"),
        (admin.email, "password"),
    ]
    [succeeded] = audit_rows("login.succeeded")
    assert succeeded.actor == f"user:{admin.email}"
    assert succeeded.target == f"user:{admin.id}"
    assert all("hunter2" not in str(r.details) for r in audit_rows())


def test_a_throttled_attempt_is_audited_and_checks_no_password(client, admin, monkeypatch):
    for _ in range(5):
        login(client, admin.email, WRONG)
    checks = spy_on_verify(monkeypatch)
    login(client, admin.email)
    assert checks == []
    [row] = audit_rows("login.throttled")
    assert row.actor == admin.email and row.details["wait_seconds"] == 900


def spy_on_verify(monkeypatch) -> list[str]:
    """Record the stored hash every password check is made against."""
    checked: list[str] = []
    real = passwords.verify

    def verify(stored: str, password: str) -> bool:
        checked.append(stored)
        return real(stored, password)

    monkeypatch.setattr(passwords, "verify", verify)
    return checked


@pytest.mark.parametrize("case", ["unknown", "inactive", "wrong password", "invited"])
def test_every_refusal_costs_one_hash_check_and_says_the_same(client, admin, monkeypatch, case):
    email, password = admin.email, WRONG
    if case == "unknown":
        email = "nobody@example.com"
    elif case == "inactive":
        admin.active, password = False, "correct horse battery"
    elif case == "invited":
        db.session.add(User(email="new@example.com", role=Role.VIEWER, password_hash=""))
        email = "new@example.com"
    db.session.commit()
    checks = spy_on_verify(monkeypatch)
    response = login(client, email, password)
    assert response.status_code == 400
    assert "Unknown email or wrong password." in response.get_data(as_text=True)
    assert len(checks) == 1
    if case in ("unknown", "invited"):
        assert checks == [passwords.dummy_hash()]


def test_the_dummy_hash_costs_what_a_real_one_does():
    method = generate_password_hash("any password at all").split("$")[0]
    assert passwords.dummy_hash().split("$")[0] == method  # e.g. scrypt:32768:8:1


def _token(client) -> str:
    return csrf_token(client, "/")


def test_the_password_links_token_is_masked_in_access_logs():
    from collector.runtime import access_log

    line = '127.0.0.1 - - "GET /password/new/Zm9vYmFyYmF6 HTTP/1.1" 200 -'
    assert access_log.mask(line) == '127.0.0.1 - - "GET /password/new/*** HTTP/1.1" 200 -'


def test_behind_a_trusted_proxy_the_address_is_the_clients(tmp_root, admin, app):
    from collector import create_app
    from tests.conftest import app_config

    proxied = create_app(app_config(tmp_root, PROXY_HOPS=1))
    client = proxied.test_client()
    client.environ_base.update(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7")
    login(client, admin.email, WRONG)
    [row] = audit_rows("login.failed")
    assert row.remote_addr == "198.51.100.7"


def test_without_redis_the_app_counts_in_its_own_memory(app):
    from collector.accounts import setup as accounts_setup
    from collector.accounts.throttle import PROCESS_COUNTER
    from collector.runtime.inline import InlineBackend

    jobs = app.extensions["jobs"]
    assert isinstance(accounts_setup.login_throttle(app).counter, RedisCounter)
    saved, jobs.backend = jobs.backend, InlineBackend(workers=1)
    try:
        assert accounts_setup.login_throttle(app).counter is PROCESS_COUNTER
    finally:
        jobs.backend.pool.shutdown(wait=True)
        jobs.backend = saved
