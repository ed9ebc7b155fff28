"""Work beside a pass over a mandates CSV, one call at a time, in a thread of its own:
the commit's inserts, and the look-ups of the next chunk.

A commit of 100,000 rows was about 3.8 s of Python (reading and checking the rows) and
3.3 s of PostgreSQL inserting them, one after the other. Here the insert of chunk k runs
while the pass checks chunk k+1, and the look-ups of chunk k+1 (``mandate_lookups``) run
while it checks chunk k: psycopg lets go of the GIL while it waits on the server, so the
server's work and the pass's Python overlap.

Each piece of work has its own connection, used by one thread at a time: the inserts the
session's (one transaction), the look-ups one of their own. The pass calls ``wait``
before it uses the session itself (``mandate_scan._pass``). A failed call is raised by
the next ``wait`` in the pass's thread (so the commit fails, rolls back and says why, as
when it ran there), and the pass never leaves — not even on an error of its own — while
a call is still running on a connection it would roll back or close.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from typing import Any


class Beside:
    """Runs ``work`` in the background, one call at a time; ``background=False`` runs
    each call there and then (where the work shares the pass's connection: SQLite)."""

    def __init__(self, work: Callable[..., Any] | None, name: str, *, background: bool = True):
        self.work, self.background = work, background
        # The pool starts its thread on the first ``start``: a pass that never starts
        # one (a check's inserts) makes no thread.
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=name)
        self._running: Future | None = None

    def start(self, *args) -> None:
        """Run ``work(*args)`` beside what the caller does next; call ``wait`` first."""
        assert self._running is None, "one call at a time: wait for the last one first"
        if not self.background:
            self._running = Future()
            try:
                self._running.set_result(self.work(*args))
            except Exception as exc:  # told by ``wait``, as from the thread
                self._running.set_exception(exc)
            return
        # The caller's context (its app context, so its database session) goes with it.
        context = contextvars.copy_context()
        self._running = self._pool.submit(context.run, self.work, *args)

    def wait(self) -> Any:
        """Return once no call is running, with what the last one returned (None if
        none ran); raise its error if it failed."""
        running, self._running = self._running, None
        return running.result() if running is not None else None

    def __enter__(self) -> Beside:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        try:
            if error is None:
                self.wait()
            else:
                # The pass's own error is the one to tell; the call is only waited for.
                with suppress(Exception):
                    self.wait()
        finally:
            self._pool.shutdown()
