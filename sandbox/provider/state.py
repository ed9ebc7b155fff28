"""The emulator's state: payments with their refunds and chargebacks, idempotency keys,
webhook deliveries, injected faults and call counters.

One ``threading.RLock`` guards all of it; every reader and writer holds ``store.lock``, and
nobody holds it across an HTTP call (a webhook receiver calls the API back).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Store:
    """All mutable state of one emulator instance."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    payments: dict[str, dict] = field(default_factory=dict)  # by id, in creation order
    # Idempotency-Key -> {request (fingerprint), status, body, expires_at}: see idempotency.py
    idempotency: dict[str, dict] = field(default_factory=dict)
    deliveries: list[dict] = field(default_factory=list)
    faults: list[dict] = field(default_factory=list)
    calls: Counter = field(default_factory=Counter)

    def reset(self) -> None:
        """Forget everything."""
        with self.lock:
            self.payments.clear()
            self.idempotency.clear()
            self.deliveries.clear()
            self.faults.clear()
            self.calls.clear()
