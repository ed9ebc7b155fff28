"""Two test sessions never share a Redis db or a database (tests/support/exclusive.py)."""

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.conftest import TEST_REDIS_URL
from tests.support.exclusive import lease_names, lease_server

ROOT = Path(__file__).resolve().parent.parent


def test_this_session_holds_its_redis_db_and_database(redis_conn):
    # redis_conn: the test's own Redis db, emptied around it; the leases are elsewhere.
    server = lease_server(TEST_REDIS_URL)
    names = lease_names(TEST_REDIS_URL, os.environ.get("DATABASE_URL", ""))
    me = f"{socket.gethostname()}:{os.getpid()}".encode()
    assert [server.get(name) for name in names] == [me] * len(names)
    assert all(0 < server.ttl(name) <= 30 for name in names)


def test_a_second_session_on_the_same_services_stops_and_says_why():
    second = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_health.py"],
        cwd=ROOT,
        env={**os.environ, "REDIS_URL": TEST_REDIS_URL, "TEST_SESSION_PATIENCE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert second.returncode == 3, second.stdout + second.stderr
    assert "in use by another test session" in second.stdout + second.stderr
    assert f":{os.getpid()})" in second.stdout + second.stderr
