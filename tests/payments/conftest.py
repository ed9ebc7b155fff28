"""Fixtures of the payments tests."""

import pytest

from tests.payments.sandbox_provider import Sandbox


@pytest.fixture
def sandbox():
    """The payment provider emulator on a real port; local webhooks allowed."""
    running = Sandbox()
    yield running
    running.close()
