"""Helpers shared by the Exact Online client tests."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

HOST = "https://start.exactonline.test"
DIVISION = 124132
TOKEN = "access-token-1"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def payload(name: str):
    """A recorded Exact payload from tests/exact/fixtures (copied from shared/reference)."""
    return json.loads((FIXTURES / name).read_text())


def raw(name: str) -> bytes:
    """A recorded payload's exact bytes."""
    return (FIXTURES / name).read_bytes()


def url(path: str) -> str:
    """The URL of an entity set in the test division."""
    return f"{HOST}/api/v1/{DIVISION}/{path}"


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


class RefreshingTokens:
    """A token source that hands out ``first`` and, on refresh, ``second``."""

    def __init__(self, first: str, second: str) -> None:
        self.token, self.second = first, second
        self.refreshed: list[str] = []

    def access_token(self) -> str:
        return self.token

    def refresh(self, stale_token: str) -> str:
        self.refreshed.append(stale_token)
        self.token = self.second
        return self.token
