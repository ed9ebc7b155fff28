"""The suite's table: one row per scenario — what was expected, what was observed, and what
was lost, duplicated or left stuck, counted from rows and the emulators' state."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Row:
    number: int
    scenario: str
    expected: str
    observed: str = ""
    lost: int = 0
    duplicated: int = 0
    stuck: int = 0
    # An expectation that is not a count (a webhook answered 500, a payment recorded too
    # late, the fault could not be inflicted): the row fails with it, and says why.
    broken: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # Counts duplicates again at the end of the run: a second write can come late.
    recount: Callable[[], int] | None = None

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.stuck or self.broken)


HEADER = f"{'#':>2}  {'scenario':<34}{'lost':>6}{'dup':>6}{'stuck':>7}{'seconds':>9}  verdict"


def print_row(row: Row) -> None:
    """One scenario's row as it concludes, with what was expected and observed under it."""
    verdict = "ok" if row.ok else "FAIL"
    print(
        f"{row.number:>2}  {row.scenario:<34}{row.lost:>6}{row.duplicated:>6}{row.stuck:>7}"
        f"{row.seconds:>9.1f}  {verdict}"
    )
    for label, text in (("expected", row.expected), ("observed", _observed(row))):
        lines = textwrap.wrap(text, 96) or [""]
        print(f"    {label}: {lines[0]}")
        for line in lines[1:]:
            print(f"              {line}")
    sys.stdout.flush()


def _observed(row: Row) -> str:
    broken = "".join(f" ! {b}." for b in row.broken)
    return f"{row.observed}{broken}"


def _cell(text: str) -> str:
    """One line, no column separators: error texts carry both."""
    return " ".join(text.split()).replace("|", "/")


def print_table(rows: list[Row], total: float) -> None:
    """The whole run again, as a Markdown table (the README keeps the last one)."""
    print()
    print("| # | scenario | expected | observed | lost | duplicated | stuck | s |")
    print("|---|---|---|---|---:|---:|---:|---:|")
    for row in sorted(rows, key=lambda r: r.number):
        cells = (_cell(row.expected), _cell(_observed(row)))
        print(
            f"| {row.number} | {row.scenario} | {cells[0]} | {cells[1]} | {row.lost} |"
            f" {row.duplicated} | {row.stuck} | {row.seconds:.0f} |"
        )
    failed = [r.number for r in rows if not r.ok]
    verdict = f"FAILED: scenario(s) {', '.join(map(str, sorted(failed)))}" if failed else "all ok"
    print(f"\n{len(rows)} scenario(s) in {total:.0f} s: {verdict}")
