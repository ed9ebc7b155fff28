"""Fixtures for the Teamleader client tests (named tl_* where a root conftest might clash)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import redis
import responses

from collector.teamleader import StaticTokenSource, TeamleaderClient, build_session
from tests.conftest import TEST_REDIS_URL as REDIS_URL

from .support import API, TOKEN, FakeTime


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime(datetime(2021, 6, 15, 9, 51, 20, tzinfo=UTC))


@pytest.fixture
def rsps():
    """HTTP mock: an unregistered call raises ConnectionError, an unused registration fails."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def tl_client(rsps, fake_time) -> TeamleaderClient:
    """The client under test: static token, fake sleep and clock, no limiter."""
    return TeamleaderClient(
        build_session(),
        API,
        StaticTokenSource(TOKEN),
        sleep=fake_time.sleep,
        clock=fake_time.now,
    )


@pytest.fixture
def tl_redis():
    """The real Redis, database 15, emptied before and after each test."""
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()
