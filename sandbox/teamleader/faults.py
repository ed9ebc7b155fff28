"""Injected faults for tests and demos: latency, server errors, rate-limit answers, and
download links that misbehave.

A fault applies to every endpoint or only to one (an RPC method name such as
``invoices.list``, or ``oauth2.access_token``). Errors and 429s are counted down per
matching response; latency applies until cleared unless given a count.

A file fault applies to the next ``count`` links ``invoices.download`` /
``creditNotes.download`` issue (see ``files.py`` for what each kind serves).
"""

from __future__ import annotations

from dataclasses import dataclass

from .state import Store

KINDS = ("latency", "error", "rate_limit")
FILE_KINDS = ("expired", "not_pdf", "oversized", "foreign_host")
OVERSIZED_BYTES = 25 * 1024 * 1024  # past collector's 20 MiB cap


@dataclass(frozen=True)
class Injection:
    """What to do to one response."""

    delay_ms: int = 0
    status: int | None = None  # 5xx or 429 to answer instead of the real response


def add(
    store: Store, kind: str, endpoint: str | None, count: int | None, ms: int, status: int
) -> dict:
    """Register a fault and return it."""
    with store.lock:
        fault = {
            "id": max((f["id"] for f in store.faults), default=0) + 1,
            "kind": kind,
            "endpoint": endpoint,
            "remaining": count,
            "ms": ms if kind == "latency" else 0,
            "status": {"error": status, "rate_limit": 429}.get(kind),
        }
        store.faults.append(fault)
        return dict(fault)


def take(store: Store, endpoint: str) -> Injection:
    """Consume the faults that apply to this response."""
    with store.lock:
        delay, status = 0, None
        for fault in [f for f in store.faults if f["endpoint"] in (None, endpoint)]:
            if fault["kind"] == "latency":
                delay += fault["ms"]
            elif status is None:
                status = fault["status"]
            else:
                continue
            _count_down(store, fault)
        return Injection(delay, status)


def _count_down(store: Store, fault: dict) -> None:
    if fault["remaining"] is None:
        return
    fault["remaining"] -= 1
    if fault["remaining"] <= 0:
        store.faults.remove(fault)


def add_file(store: Store, kind: str, count: int, size: int) -> dict:
    """Register a fault for the next ``count`` download links and return it."""
    with store.lock:
        fault = {
            "id": max((f["id"] for f in store.file_faults), default=0) + 1,
            "kind": kind,
            "remaining": count,
            "bytes": size if kind == "oversized" else None,
        }
        store.file_faults.append(fault)
        return dict(fault)


def take_file(store: Store) -> dict | None:
    """Consume one use of the oldest file fault: a copy of it, or None if there is none."""
    with store.lock:
        if not store.file_faults:
            return None
        fault = store.file_faults[0]
        fault["remaining"] -= 1
        if fault["remaining"] <= 0:
            store.file_faults.pop(0)
        return dict(fault)
