"""The test clock: every test reads "now" and "today" from one frozen clock.

The ``clock`` fixture (autouse) freezes ``collector.core.clock`` at the moment the test
starts, so a test never sees the day turn under it, and code and test agree on "today".
A test that needs a particular moment says so: ``clock.set("2026-12-31T23:30:00Z")``,
``clock.set_local(date(2027, 1, 1), time(0, 30))`` or ``clock.advance(days=3)``.

The starting moment is the process's wall clock, read once per test: ``make
test-moved-clock`` runs the suite with that clock moved a year ahead, on a month end just
before local midnight (``tests/support/moved_clock.py``), to prove nothing depends on the
day the tests were written.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from collector.core import clock as core_clock


class FakeClock:
    """A settable stand-in for ``core.clock``'s source."""

    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def now(self) -> datetime:
        return self.at

    def today(self) -> date:
        """The company's local date now (needs the app: the zone is a setting)."""
        return core_clock.local_date(self.at)

    def set(self, at: datetime | str) -> datetime:
        """Move to ``at`` (aware, or an ISO string with an offset)."""
        if isinstance(at, str):
            at = datetime.fromisoformat(at.replace("Z", "+00:00"))
        if at.tzinfo is None:
            raise ValueError("the test clock takes aware datetimes only")
        self.at = at.astimezone(UTC)
        return self.at

    def set_local(self, day: date, wall: time) -> datetime:
        """Move to the company's local ``day`` at ``wall`` o'clock."""
        return self.set(datetime.combine(day, wall, tzinfo=core_clock.zone()))

    def advance(self, **delta) -> datetime:
        self.at += timedelta(**delta)
        return self.at


@pytest.fixture(autouse=True)
def clock():
    """The frozen clock of this test (see the module's docstring)."""
    from collector.accounts import company

    fake = FakeClock(datetime.now(UTC).replace(microsecond=0))
    previous = core_clock.use_source(fake)
    company.forget_time_zone()
    yield fake
    core_clock.use_source(previous)
    company.forget_time_zone()
