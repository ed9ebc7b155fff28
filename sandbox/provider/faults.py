"""Injected faults: the next ``count`` API calls answer a 5xx or a 429 instead; a ``lost``
fault answers the 5xx only after the call did its work (the answer lost on the way back); a
``latency`` fault holds each of them ``ms`` milliseconds, then answers as usual (a slow
provider, or a job to catch mid-call).

Only the ``/v2`` API is spoiled; the checkout page and the control API keep working, so a
test can break the API and still drive the payer's side.
"""

from __future__ import annotations

from .state import Store

KINDS = ("error", "rate_limit", "lost", "latency")
MAX_LATENCY_MS = 60_000


def add(
    store: Store, kind: str, count: int, status: int, retry_after: int | None, ms: int = 0
) -> dict:
    """Register a fault and return it."""
    with store.lock:
        fault = {
            "id": max((f["id"] for f in store.faults), default=0) + 1,
            "kind": kind,
            "remaining": count,
            "status": {"rate_limit": 429, "latency": None}.get(kind, status),
            "retry_after": retry_after,
            "ms": ms if kind == "latency" else 0,
        }
        store.faults.append(fault)
        return dict(fault)


def take(store: Store) -> dict | None:
    """Consume one use of the oldest fault: a copy of it, or None if there is none."""
    with store.lock:
        if not store.faults:
            return None
        fault = store.faults[0]
        fault["remaining"] -= 1
        if fault["remaining"] <= 0:
            store.faults.pop(0)
        return dict(fault)
