"""Cells of the CSV files people download and open in a spreadsheet: machine values that
stay text, and chunks that stream.

A spreadsheet runs a cell starting with "=", "+", "-", "@", a tab or a carriage return as
a formula (OWASP "CSV injection"); names, numbers and references come from outside, typed
by anyone, so such a cell is written with a leading apostrophe and shown as text.
"""

from __future__ import annotations

import io
from datetime import datetime

from collector.core import clock

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text(value: str | None) -> str:
    """``value`` as a cell that stays text (empty for None)."""
    value = value or ""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def instant(value: datetime | None) -> str:
    """An instant as the company's wall-clock time with its offset (ISO 8601)."""
    return clock.local(value).isoformat(timespec="seconds") if value else ""


def drain(buffer: io.StringIO) -> str:
    """What was written to ``buffer`` since the last drain, and an empty buffer."""
    written = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return written
