"""Helpers shared by the Teamleader client tests."""

from __future__ import annotations

from datetime import datetime, timedelta

API = "https://api.teamleader.test"
AUTH = "https://focus.teamleader.test"
TOKEN = "access-token-1"


def url(endpoint: str) -> str:
    """The URL of one API method on the test host."""
    return f"{API}/{endpoint}"


class FakeTime:
    """A clock that only moves when something sleeps; records every sleep."""

    def __init__(self, start: datetime) -> None:
        self.current = start
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.current += timedelta(seconds=seconds)
