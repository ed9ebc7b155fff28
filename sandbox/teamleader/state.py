"""The emulator's state: the dataset plus OAuth grants, download links, webhook
registrations and deliveries, injected faults (API and download) and call counters.

One ``threading.RLock`` guards all of it; every reader and writer holds ``store.lock``.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from .factory import Dataset
from .generator import Sizes, generate


@dataclass
class Store:
    """All mutable state of one emulator instance."""

    data: Dataset
    lock: threading.RLock = field(default_factory=threading.RLock)
    codes: dict[str, dict] = field(default_factory=dict)
    access_tokens: dict[str, dict] = field(default_factory=dict)
    refresh_tokens: dict[str, dict] = field(default_factory=dict)
    downloads: dict[str, dict] = field(default_factory=dict)
    # client id -> url -> event types (registrations belong to one integration, reference §12)
    webhooks: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    deliveries: list[dict] = field(default_factory=list)
    faults: list[dict] = field(default_factory=list)
    file_faults: list[dict] = field(default_factory=list)  # applied to the next links issued
    calls: Counter = field(default_factory=Counter)
    # Accepted invoices.registerPayment calls with their wall-clock arrival (unix seconds),
    # so a benchmark can time a payment's way to Teamleader.
    registrations: list[dict] = field(default_factory=list)

    def reseed(
        self, seed: int, now: datetime, sizes: Sizes, options: list[str], keep_auth: bool
    ) -> None:
        """Replace the data with a freshly generated set; clear everything else."""
        with self.lock:
            self.data = generate(seed, now, sizes, options)
            self.downloads.clear()
            self.deliveries.clear()
            self.faults.clear()
            self.file_faults.clear()
            self.calls.clear()
            self.registrations.clear()
            if not keep_auth:
                self.codes.clear()
                self.access_tokens.clear()
                self.refresh_tokens.clear()
                self.webhooks.clear()
