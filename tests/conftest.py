"""Test fixtures: the real database (PostgreSQL in ``make test``) and the real Redis.

The schema is built once per session by running the migrations on an emptied
database. Each test that uses the database starts from empty tables: rows are
deleted after the test rather than rolled back, because services commit and
several tests run work in other threads, processes or a live server, which a
wrapping transaction would hide from them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import flask_migrate
import pytest
import redis
import sqlalchemy as sa
from flask.testing import FlaskClient

from collector import create_app
from collector.accounts import users
from collector.extensions import db

pytest_plugins = [
    "tests.support.browser",
    "tests.support.clock",
    "tests.support.dns",
    "tests.support.exclusive",
    "tests.support.markers",
    "tests.support.s3",
    "tests.support.smtp",
]

TEST_REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
SESSION_FOREVER_HOURS = 50 * 366 * 24


def _test_database_url(tmp_root: Path) -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_root / 'test.sqlite3'}"


def app_config(tmp_root: Path, **overrides) -> dict:
    """The configuration every test app starts from."""
    config = {
        "ENV": "test",
        "SECRET_KEY": "test-secret",
        "TOKEN_ENCRYPTION_KEY": "",
        "DATABASE_URL": _test_database_url(tmp_root),
        "REDIS_URL": TEST_REDIS_URL,
        "JOBS_INLINE": False,
        "DOCUMENT_STORAGE": str(tmp_root / "documents"),
        "INSTANCE_PATH": str(tmp_root / "instance"),
        "LOG_LEVEL": "WARNING",
        # Tests move the clock by days and months while a client stays logged in, so here
        # sessions outlive any such move; tests/test_sessions.py sets the real lifetimes.
        "SESSION_IDLE_MINUTES": SESSION_FOREVER_HOURS * 60,
        "SESSION_MAX_HOURS": SESSION_FOREVER_HOURS,
    }
    # The emulators and receivers the tests start listen on loopback; production refuses that.
    if overrides.get("ENV", config["ENV"]) != "production":
        config["OUTBOUND_ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    config.update(overrides)
    return config


def reset_schema() -> None:
    """Drop every table (and Alembic's version row) so migrations start from nothing."""
    engine = db.engine
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        else:
            meta = sa.MetaData()
            meta.reflect(conn)
            meta.drop_all(conn)


def empty_tables() -> None:
    db.session.remove()
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(scope="session")
def tmp_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("collector")


@pytest.fixture(scope="session")
def _app(tmp_root):
    app = create_app(app_config(tmp_root))
    with app.app_context():
        reset_schema()
        flask_migrate.upgrade()
    return app


@pytest.fixture
def app(_app, redis_conn):
    """The app, with empty tables, inside an app context."""
    with _app.app_context():
        empty_tables()
        yield _app
        empty_tables()


@pytest.fixture
def redis_conn():
    conn = redis.Redis.from_url(TEST_REDIS_URL)
    conn.ping()  # a missing Redis fails the test; it is never skipped
    conn.flushdb()
    yield conn
    conn.flushdb()


class FreshContextClient(FlaskClient):
    """Gives every request an app context (and so ``g`` and a DB session) of its
    own, as in production, even though the test holds an outer app context."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = FreshContextClient
    return app.test_client()


@pytest.fixture
def admin(app):
    return users.create_user("admin@example.com", "correct horse battery", "admin")


@pytest.fixture
def viewer(app):
    return users.create_user("viewer@example.com", "correct horse battery", "viewer")


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token of the form at ``path``, as a browser would read it."""
    html = client.get(path).get_data(as_text=True)
    match = CSRF.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, email: str, password: str = "correct horse battery"):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


@pytest.fixture
def admin_client(client, admin):
    response = login(client, admin.email)
    assert response.status_code == 302
    return client


@pytest.fixture
def viewer_client(client, viewer):
    response = login(client, viewer.email)
    assert response.status_code == 302
    return client
