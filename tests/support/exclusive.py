"""One test session at a time on a Redis db and a PostgreSQL database.

The suite empties its Redis db and its tables around every test. A second session on the
same ones — a developer's ``pytest`` beside CI's, both on the default Redis db — empties
the first one's in the middle of its tests, which then fail at random (a worker's queue
flushed, a job of the other session run against the wrong database). So each session
holds a lease on its Redis db and its database, kept in Redis db 0 of the same server
(which the suite never empties), renewed while the session runs; a second session waits
a little for a lease that may be a killed session's, then stops with what to do.
"""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest
import redis
from sqlalchemy.engine import make_url

LEASE = 30  # seconds: a session killed with SIGKILL frees its services this late
RENEW = 10
PATIENCE = LEASE + 5  # a lease older than this is not a killed session's (env: the tests')


def lease_server(redis_url: str) -> redis.Redis:
    """Database 0 of the server ``redis_url`` names (``from_url``'s own ``db`` argument
    loses to the URL's path)."""
    settings = dict(redis.Redis.from_url(redis_url).connection_pool.connection_kwargs)
    settings["db"] = 0
    return redis.Redis(**settings)


def lease_names(redis_url: str, database_url: str) -> list[str]:
    names = [
        f"collector:test-session:redis:{redis.Redis.from_url(redis_url).get_connection_kwargs()['db']}"
    ]
    if database_url.startswith("postgresql"):
        url = make_url(database_url)
        names.append(f"collector:test-session:database:{url.host}:{url.port}/{url.database}")
    return names


@pytest.fixture(scope="session", autouse=True)
def exclusive_services():
    from tests.conftest import TEST_REDIS_URL

    server = lease_server(TEST_REDIS_URL)
    names = lease_names(TEST_REDIS_URL, os.environ.get("DATABASE_URL", ""))
    me = f"{socket.gethostname()}:{os.getpid()}"
    deadline = time.monotonic() + float(os.environ.get("TEST_SESSION_PATIENCE", PATIENCE))
    held: list[str] = []
    for name in names:
        while not server.set(name, me, nx=True, ex=LEASE):
            if time.monotonic() > deadline:
                for mine in held:
                    server.delete(mine)
                holder = server.get(name)
                pytest.exit(
                    f"{name.split(':', 2)[2]} is in use by another test session "
                    f"({holder.decode() if holder else 'gone just now'}); give this one its "
                    "own: DATABASE_URL=…/another_database REDIS_URL=redis://…/another_db",
                    returncode=3,
                )
            time.sleep(1)
        held.append(name)
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(RENEW):
            for name in held:
                try:  # a moment without Redis (a test's doing) must not end the lease
                    if (
                        not server.set(name, me, nx=True, ex=LEASE)
                        and server.get(name) == me.encode()
                    ):
                        server.expire(name, LEASE)
                except redis.RedisError:
                    pass

    renewer = threading.Thread(target=renew, name="test-session-lease", daemon=True)
    renewer.start()
    yield
    stop.set()
    renewer.join()
    for name in held:
        if server.get(name) == me.encode():
            server.delete(name)
