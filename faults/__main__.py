"""``python -m faults [--only 3,8] [--keep]``: the fault suite (``make faults``).

Starts PostgreSQL's ``collector_faults`` database, its own Redis (port 6390), the sandbox
emulators, the web app under gunicorn, two rq workers, rq's cron and an SMTP server, all
on loopback; sets up a connected account; plays the scenarios and prints a table. Exits 1
when anything was lost, duplicated or left stuck, or an expectation did not hold.
"""

from __future__ import annotations

import argparse
import atexit
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from faults import kills, storms  # noqa: F401  (they register the scenarios)
from faults import stack as stack_module
from faults import world as world_module
from faults.report import HEADER, print_table
from faults.runner import REGISTRY, run

# Faults of the whole system first, each alone; then the faults mid-job, whose waits for
# recovery overlap.
ORDER = (5, 7, 8, 1, 2, 3, 4, 6)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    taken = stack_module.ports_in_use()
    if taken:
        print(f"ports {taken} are in use: is another run of the suite going on?", file=sys.stderr)
        return 2
    logs = Path(tempfile.mkdtemp(prefix="collector-faults-"))
    began = time.monotonic()
    stack = stack_module.build(logs)
    _always_clean_up(stack, logs, args.keep)
    print(f"collector fault suite: scenarios {', '.join(map(str, args.only))}; logs in {logs}")
    stack_module.fresh_database()
    stack.start()
    world = world_module.prepare(stack)
    world_module.dispose(world)
    stack.start_collector()
    print(f"set up in {time.monotonic() - began:.0f} s (account connected, 30 days imported)\n")
    print(HEADER)
    with (logs / "suite.log").open("a") as log:
        rows = run(world, args.only, log)
    if stack.supervisor.errors:
        print(f"\nrestarts that failed at first: {len(stack.supervisor.errors)} (see logs)")
    restarts = {s.name: s.restarts for s in stack.started if s.restarts}
    if restarts:
        print(f"processes started again: {restarts}")
    print_table(rows, time.monotonic() - began)
    return 0 if all(row.ok for row in rows) else 1


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m faults", description=__doc__)
    parser.add_argument("--only", help="comma-separated scenario numbers, e.g. 3,8")
    parser.add_argument(
        "--keep", action="store_true", help="keep the logs (and the database) afterwards"
    )
    args = parser.parse_args(argv)
    wanted = ORDER
    if args.only:
        try:
            chosen = {int(n) for n in args.only.split(",") if n.strip()}
        except ValueError:
            parser.error("--only takes scenario numbers, e.g. 3,8")
        unknown = chosen - set(REGISTRY)
        if unknown or not chosen:
            parser.error(f"no scenario {sorted(unknown)}; there are {sorted(REGISTRY)}")
        wanted = tuple(n for n in ORDER if n in chosen)
    args.only = list(wanted)
    return args


def _always_clean_up(stack, logs: Path, keep: bool) -> None:
    """Stop every process on any exit (a SIGTERM included); drop the database and the logs
    unless they are to be kept."""

    def clean_up() -> None:
        stack.close()
        if keep:
            print(f"logs kept in {logs}; database {stack_module.DATABASE} kept")
            return
        try:
            stack_module.drop_database()
        except Exception as exc:  # the run's outcome stands; say what was left behind
            print(f"could not drop {stack_module.DATABASE}: {exc}", file=sys.stderr)
        shutil.rmtree(logs, ignore_errors=True)

    atexit.register(clean_up)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


if __name__ == "__main__":
    sys.exit(main())
