"""Injected faults: the next ``count`` calls matching a method and a path fragment fail.

Registered with ``POST /_control/faults {"method", "path_contains", "status", "count",
"body"?}``; they apply to the REST API and to the token endpoint (the consent page and
the control API keep working). ``body`` is the message of Exact's error envelope (default:
the generic 500 text) or, given as a JSON object, the whole answer.
"""

from __future__ import annotations

from .state import Store

GENERIC = (
    "A problem has occurred. The cause of this issue will be investigated as soon as possible."
)


def add(store: Store, spec: dict) -> dict:
    """Register a fault and return it."""
    with store.lock:
        fault = {
            "id": max((f["id"] for f in store.faults), default=0) + 1,
            "method": (spec.get("method") or "").upper() or None,
            "path_contains": spec.get("path_contains") or "",
            "status": int(spec.get("status", 500)),
            "remaining": int(spec.get("count", 1)),
            "body": spec.get("body"),
        }
        store.faults.append(fault)
        return dict(fault)


def take(store: Store, method: str, path: str) -> dict | None:
    """Consume one use of the oldest matching fault: a copy of it, or None."""
    with store.lock:
        for fault in store.faults:
            if fault["method"] not in (None, method) or fault["path_contains"] not in path:
                continue
            fault["remaining"] -= 1
            if fault["remaining"] <= 0:
                store.faults.remove(fault)
            return dict(fault)
    return None
