"""CPU seconds by process during a measured span, read from Linux's /proc.

On a 2-core machine a burst is bound by CPU, and the processes that share it are not all
ours in production: the sandbox stands in for Teamleader and the provider, which run on
their own machines. Splitting a span's CPU by role says what a payment costs us, what the
bench's stand-ins cost, and what the two cores could do at best.

A process's own time counts (utime + stime), and that of its children once reaped
(cutime + cstime): rq's work horses, which end before the span does.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU seconds of ``pid`` and its reaped children; 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    # After the command: state ppid … utime(12) stime(13) cutime(14) cstime(15), 1-based
    # from the state field at index 0 here.
    return sum(int(f) for f in fields[11:15]) / TICKS


def children(pid: int) -> list[int]:
    """The live children of ``pid``."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
        if ppid == pid:
            found.append(int(name))
    return found


@dataclass
class Meter:
    """Roles → pids, read at the start and at the end of a span. A pid first seen at the
    end counts from zero (a database connection opened during the span)."""

    start: dict[int, float] = field(default_factory=dict)
    spent: dict[str, float] = field(default_factory=dict)

    def begin(self, roles: dict[str, Iterable[int]]) -> None:
        self.start = {pid: cpu_seconds(pid) for pids in roles.values() for pid in pids}

    def end(self, roles: dict[str, Iterable[int]]) -> dict[str, float]:
        self.spent = {
            role: sum(max(0.0, cpu_seconds(pid) - self.start.get(pid, 0.0)) for pid in pids)
            for role, pids in roles.items()
        }
        return self.spent


def backends(connection, database: str) -> list[int]:
    """PostgreSQL's server processes for ``database`` (psycopg connection to any db)."""
    rows = connection.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)
    ).fetchall()
    return [row[0] for row in rows]
