"""Fixtures for the Exact Online client tests (named ex_* where a root conftest might clash)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import redis
import responses

from collector.exact import ExactClient, StaticTokenSource, build_session
from tests.conftest import TEST_REDIS_URL

from .support import DIVISION, HOST, TOKEN, FakeTime


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime(datetime(2021, 12, 2, 12, 15, 0, tzinfo=UTC))


@pytest.fixture
def rsps():
    """HTTP mock: an unregistered call raises ConnectionError, an unused registration fails."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def ex_client(rsps, fake_time) -> ExactClient:
    """The client under test: static token, fake sleep and clock, no limiter, no retries of
    unknown calls hiding a missing registration (max_retries=0)."""
    return ExactClient(
        build_session(),
        HOST,
        StaticTokenSource(TOKEN),
        DIVISION,
        max_retries=0,
        sleep=fake_time.sleep,
        clock=fake_time.now,
    )


@pytest.fixture
def ex_redis():
    """The real Redis (REDIS_URL), emptied before and after each test."""
    connection = redis.Redis.from_url(TEST_REDIS_URL)
    connection.ping()
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()
