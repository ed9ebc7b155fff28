"""What a settings change changed, for the audit log: a snapshot of a row's fields before,
compared with the row after, gives the names of the fields that changed and their new
values (secrets are dropped by ``audit.record`` by their names)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from collector.accounts import audit


def snapshot(row: object, names: Iterable[str]) -> dict[str, Any]:
    """The values of ``names`` on ``row`` now (None for a row not made yet)."""
    return {name: getattr(row, name, None) for name in names}


def changed(before: dict[str, Any], row: object) -> dict[str, Any]:
    """The fields of ``before`` whose value on ``row`` differs now, with the new value."""
    return {
        name: getattr(row, name, None)
        for name, old in before.items()
        if getattr(row, name, None) != old
    }


def record_changes(
    action: str, before: dict[str, Any], row: object, *, target: str = "", **extra: Any
) -> bool:
    """Record ``action`` with the changed field names and new values, when any changed
    (``extra`` joins the details). Returns whether a row was added."""
    new = changed(before, row)
    if not new:
        return False
    audit.record(action, target=target, details={**extra, "fields": sorted(new), "new": new})
    return True
