"""Run a command with the clock moved, to prove the suite is green on any day.

    python -m tests.support.moved_clock [--at 2027-12-31T22:57:00Z] -- pytest ...

Every Python process of the command (pytest, and the rq workers and scripts the tests
start) moves its wall clock by one offset through ``tests/support/travel/sitecustomize.py``
(time-machine), so they agree on the moved "now" and it keeps ticking. The monotonic
clock, PostgreSQL, Redis and Chromium keep real time; nothing of ours asks them for the
time of day.

By default the clock starts at 22:57 UTC on 31 December of next year — more than a year
ahead, three minutes before local midnight in Brussels (CET), so the run crosses the
company's midnight and the ends of the month and year in local time while UTC is still
on the 31st: the hours when local and UTC dates differ.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

TRAVEL = Path(__file__).resolve().parent / "travel"


def default_target(now: datetime) -> datetime:
    return datetime(now.year + 1, 12, 31, 22, 57, tzinfo=UTC)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--at", help="ISO instant the clock starts at (default: see module)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    now = datetime.now(UTC)  # the real clock: the one being moved
    target = (
        datetime.fromisoformat(args.at.replace("Z", "+00:00")) if args.at else default_target(now)
    )
    offset = int((target - now).total_seconds())
    path = os.pathsep.join(filter(None, [str(TRAVEL), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, "COLLECTOR_CLOCK_OFFSET": str(offset)}
    print(f"moved clock: starts at {target.isoformat()} (offset {offset:+d} s)", flush=True)
    os.execvpe(command[0], command, env)  # noqa: S606 (the command line given to us)


if __name__ == "__main__":
    sys.exit(main())
