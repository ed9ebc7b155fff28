"""The emulator's state: the demo user's divisions with their tables, OAuth grants, the
call and token logs and injected faults.

One ``threading.RLock`` guards all of it; every reader and writer holds ``store.lock``
(the end-to-end tests run the emulator threaded with parallel clients).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class Division:
    """One administration: its header fields and a table per entity set."""

    code: int
    header: dict
    # Entity path ("crm/Accounts") -> key -> record, in creation order.
    tables: dict[str, dict[object, dict]] = field(default_factory=dict)

    def table(self, path: str) -> dict[object, dict]:
        """The records of one entity set (created empty on first use)."""
        return self.tables.setdefault(path, {})


@dataclass
class Store:
    """All mutable state of one emulator instance."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    user: dict = field(default_factory=dict)
    divisions: dict[int, Division] = field(default_factory=dict)
    codes: dict[str, dict] = field(default_factory=dict)
    access_tokens: dict[str, dict] = field(default_factory=dict)
    refresh_tokens: dict[str, dict] = field(default_factory=dict)
    calls: list[dict] = field(default_factory=list)
    token_calls: list[dict] = field(default_factory=list)
    faults: list[dict] = field(default_factory=list)

    def load(self, user: dict, divisions: dict[int, Division], keep_auth: bool = False) -> None:
        """Replace the data (a reseed); grants survive only with ``keep_auth``."""
        with self.lock:
            self.user, self.divisions = user, divisions
            self.calls.clear()
            self.token_calls.clear()
            self.faults.clear()
            if not keep_auth:
                self.codes.clear()
                self.access_tokens.clear()
                self.refresh_tokens.clear()
