"""Markers that hold a test to what it claims.

A test marked ``postgres`` exercises row locks and concurrency. On SQLite ``SELECT … FOR
UPDATE`` is silently dropped, so such a test would pass there without proving anything. A
bare ``pytest`` falls back to SQLite, so the mark must fail the test rather than let it pass;
``make test`` deselects these tests in its SQLite pass (``-m "not postgres …"``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url


def configured_backend() -> str:
    """The backend of the database the test app is built with (``postgresql``, ``sqlite``…)."""
    # Imported here, not at the top: tests/conftest.py loads this plugin while it is imported.
    from tests.conftest import _test_database_url

    # The path only names the SQLite fallback's file; the backend is all we need.
    return make_url(_test_database_url(Path("unused"))).get_backend_name()


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Fail a ``postgres`` test before its fixtures run when the database is not PostgreSQL."""
    if item.get_closest_marker("postgres") is None:
        return
    backend = configured_backend()
    if backend != "postgresql":
        pytest.fail(
            f"marked postgres, but the test database is {backend}: "
            "row locks and concurrency cannot be tested there. Set DATABASE_URL to a "
            "PostgreSQL database (as `make test` does) or deselect with -m 'not postgres'.",
            pytrace=False,
        )
