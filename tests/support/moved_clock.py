"""Run a command with the machine's clock moved, to prove the suite is green on any day.

    python -m tests.support.moved_clock [--at 2027-12-31T22:57:00Z] -- pytest ...

libfaketime (Debian's ``faketime`` package) shifts the wall clock of the command and of
every process it starts — rq workers, emulators, Chromium — by one offset, so they all
agree on the moved "now" and it keeps ticking. The monotonic clock moves by the same
offset (durations are unchanged): leaving it alone makes libfaketime 0.9.10 hand sleeps
an absolute time it cannot honour (EINVAL). PostgreSQL and Redis keep real time;
nothing of ours asks them for the time of day.

By default the clock starts at 22:57 UTC on 31 December of next year — more than a year
ahead, three minutes before local midnight in Brussels (CET), so the run crosses the
company's midnight and ends of the month and year in local time while UTC is still on
the 31st: the hours when local and UTC dates differ.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

# Debian puts it under the architecture's triplet (x86_64-linux-gnu, aarch64-linux-gnu…).
FOUND = sorted(Path("/usr/lib").glob("*/faketime/libfaketimeMT.so.1"))
LIBRARY = FOUND[0] if FOUND else Path("/usr/lib/faketime/libfaketimeMT.so.1")


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
    if not LIBRARY.exists():
        print(f"libfaketime is missing ({LIBRARY}): apt-get install faketime", file=sys.stderr)
        return 1
    now = datetime.now(UTC)  # the real clock: the one being moved
    target = (
        datetime.fromisoformat(args.at.replace("Z", "+00:00")) if args.at else default_target(now)
    )
    offset = int((target - now).total_seconds())
    env = {
        **os.environ,
        "LD_PRELOAD": f"{LIBRARY}:{os.environ['LD_PRELOAD']}"
        if os.environ.get("LD_PRELOAD")
        else str(LIBRARY),
        "FAKETIME": f"{offset:+d}",
        "FAKETIME_DONT_RESET": "1",
    }
    print(f"moved clock: starts at {target.isoformat()} (offset {offset:+d} s)", flush=True)
    os.execvpe(command[0], command, env)  # noqa: S606 (the command line given to us)


if __name__ == "__main__":
    sys.exit(main())
