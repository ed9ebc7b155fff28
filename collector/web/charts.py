"""Column charts drawn as SVG by the templates: the geometry is worked out here, so a
template only places what it is given (templates do no arithmetic)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

# The drawing's own units (its viewBox); CSS scales it to the card.
WIDTH = 360
HEIGHT = 160
TOP = 8  # room above the tallest column
BOTTOM = 22  # room below the baseline for the column labels
GAP = 0.25  # of each column's slot left empty between columns


@dataclass(frozen=True)
class Column:
    """One column: its box in the drawing, where its label goes, and what it draws."""

    x: float
    y: float
    width: float
    height: float
    right: float  # x + width
    label_x: float  # the middle
    item: object


@dataclass(frozen=True)
class ColumnChart:
    width: int
    height: int
    top: float  # the tallest column's top: a column's link covers top to baseline
    room: float  # baseline - top
    baseline: float
    label_y: float
    columns: list[Column]


def column_chart(items: Sequence, value: Callable[[object], Decimal]) -> ColumnChart:
    """``items`` as columns whose heights are ``value(item)`` scaled to the tallest; a
    value at or below zero draws no column (its number is still shown as text)."""
    baseline = HEIGHT - BOTTOM
    room = baseline - TOP
    tallest = max((value(item) for item in items), default=Decimal(0))
    slot = WIDTH / max(1, len(items))
    width = slot * (1 - GAP)
    columns = []
    for i, item in enumerate(items):
        amount = value(item)
        height = float(amount / tallest) * room if tallest > 0 and amount > 0 else 0.0
        # A column too low to see still shows as a sliver: it is not nothing.
        height = max(height, 1.0) if amount > 0 else 0.0
        x = i * slot + (slot - width) / 2
        columns.append(
            Column(
                x=round(x, 1),
                y=round(baseline - height, 1),
                width=round(width, 1),
                height=round(height, 1),
                right=round(x + width, 1),
                label_x=round(x + width / 2, 1),
                item=item,
            )
        )
    return ColumnChart(WIDTH, HEIGHT, TOP, room, baseline, HEIGHT - 6, columns)
