"""Runs the scenarios: each is a generator that inflicts its fault, then ``yield``s while it
waits for the app to settle, and fills in its ``Row``.

Inflicting is exclusive (nothing else runs until the scenario first yields); waiting
overlaps, so the minutes a recovery may take are spent once, not once per scenario. A
scenario marked ``exclusive`` (Redis down, the storms: faults of the whole system) runs
alone from start to verdict.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Generator
from dataclasses import dataclass

from faults.report import Row, print_row

POLL = 0.5  # seconds between two rounds of the waiting scenarios


@dataclass(frozen=True)
class Scenario:
    number: int
    name: str
    expected: str
    func: Callable[..., Generator[None, None, None]]
    exclusive: bool = False


REGISTRY: dict[int, Scenario] = {}


def scenario(number: int, name: str, expected: str, *, exclusive: bool = False):
    """Register ``func(world, row)`` as scenario ``number``."""

    def register(func):
        REGISTRY[number] = Scenario(number, name, expected, func, exclusive)
        return func

    return register


def until(check: Callable[[], bool], seconds: float) -> Generator[None, None, bool]:
    """Yield until ``check()`` holds or ``seconds`` pass; whether it held."""
    deadline = time.monotonic() + seconds
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        yield


def pause(seconds: float) -> Generator[None, None, None]:
    """Yield for ``seconds`` (others go on meanwhile)."""
    yield from until(lambda: False, seconds)


@dataclass
class _Active:
    scenario: Scenario
    row: Row
    steps: Generator
    started: float


def run(world, order: list[int], log) -> list[Row]:
    """Run the scenarios numbered in ``order``; their rows, as they concluded."""
    pending = [REGISTRY[n] for n in order]
    active: list[_Active] = []
    done: list[Row] = []
    while pending or active:
        if pending and _may_start(pending[0], active):
            entry = _start(pending.pop(0), world)
            active.append(entry)
            _advance(entry, active, done, log)
            continue
        for entry in list(active):
            _advance(entry, active, done, log)
        time.sleep(POLL)
    for row in done:
        if row.recount is not None:
            _recount(row, log)
    return done


def _may_start(next_one: Scenario, active: list[_Active]) -> bool:
    if next_one.exclusive:
        return not active
    return not any(entry.scenario.exclusive for entry in active)


def _start(scenario: Scenario, world) -> _Active:
    row = Row(scenario.number, scenario.name, scenario.expected)
    print(f"-- {scenario.number}. {scenario.name} ({time.strftime('%X')})", flush=True)
    return _Active(scenario, row, scenario.func(world, row), time.monotonic())


def _advance(entry: _Active, active: list[_Active], done: list[Row], log) -> None:
    try:
        next(entry.steps)
        return
    except StopIteration:
        pass
    except Exception as exc:  # the suite's own failure: the row says so, the run goes on
        entry.row.broken.append(f"the suite failed: {type(exc).__name__}: {exc}")
        log.write(f"scenario {entry.scenario.number}:\n{traceback.format_exc()}\n")
        log.flush()
    entry.row.seconds = time.monotonic() - entry.started
    active.remove(entry)
    done.append(entry.row)
    print_row(entry.row)


def _recount(row: Row, log) -> None:
    try:
        again = row.recount()
    except Exception:
        log.write(f"recount of scenario {row.number}:\n{traceback.format_exc()}\n")
        return
    if again > row.duplicated:
        row.observed += f" A late duplicate: {again} duplicated at the end of the run."
        row.duplicated = again
