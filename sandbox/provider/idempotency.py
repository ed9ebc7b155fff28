"""``Idempotency-Key`` on POST requests, as Mollie documents it.

The first request with a key is carried out and its answer kept; the same key with the
same request (method, path and JSON body) gets that very answer again — status and body
as they were then, not the resource as it is now — and nothing is created twice. The same
key with a different request is a 422 in the API's error shape. Keys are kept for a limited
time (``IDEMPOTENCY_MINUTES``, an assumption: Mollie says "limited", not how long); after
that a key is new again. A request refused before it was carried out (bad auth, a 422, an
injected fault) keeps nothing, so it can be retried with the same key.

Callers hold ``store.lock`` from ``replay`` to ``remember``, so two requests with one key
never both create.
"""

from __future__ import annotations

import json
from datetime import timedelta

from . import errors
from .emulator import now
from .state import Store

DIFFERENT_REQUEST = "The Idempotency-Key was already used for a different request."


def fingerprint(method: str, path: str, body: dict) -> str:
    """The request in a canonical form, to tell a retry from a different request."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return f"{method} {path} {canonical}"


def replay(store: Store, key: str | None, request_print: str) -> tuple[int, dict] | None:
    """The answer kept for ``key`` — ``(status, body)`` — or None when the key is new (or
    forgotten); a 422 when it was used for another request."""
    if key is None:
        return None
    with store.lock:
        kept = store.idempotency.get(key)
        if kept is None or kept["expires_at"] <= now():
            store.idempotency.pop(key, None)
            return None
        if kept["request"] != request_print:
            raise errors.invalid(None, DIFFERENT_REQUEST)
        return kept["status"], json.loads(kept["body"])


def remember(
    store: Store, key: str | None, request_print: str, status: int, body: dict, minutes: float
) -> None:
    """Keep the answer given to the first request with ``key``."""
    if key is None:
        return
    with store.lock:
        store.idempotency[key] = {
            "request": request_print,
            "status": status,
            # Serialised: a later change to the resource must not change the replay.
            "body": json.dumps(body),
            "expires_at": now() + timedelta(minutes=minutes),
        }


def forget(store: Store) -> int:
    """Forget every key, as if the retention had passed; returns how many there were."""
    with store.lock:
        count = len(store.idempotency)
        store.idempotency.clear()
        return count
