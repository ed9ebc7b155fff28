"""The commit's inserts, one chunk at a time, beside the checks of the next chunk.

A commit of 100,000 rows was about 3.8 s of Python (reading and checking the rows) and
3.3 s of PostgreSQL inserting them, one after the other. Here the insert of chunk k runs
in a thread of its own while the pass checks chunk k+1: psycopg lets go of the GIL while
it waits on the server, so the two overlap.

Still one transaction on one connection, used by one thread at a time: the pass looks
the next chunk's customers and references up on a connection of its own, then calls
``wait`` before it reads the active mandates in the session, and only then starts the
next insert (``mandate_scan._pass``; on SQLite, which has one connection, it also waits
before the look-ups). A failed
insert is raised by the next ``wait`` in the pass's thread (so the commit fails, rolls
back and says why, as when it ran there), and the pass never leaves — not even on an
error of its own — while an insert is still running on the connection it would roll back.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress


class Writer:
    """Runs ``insert`` on a chunk's rows in the background, one chunk at a time."""

    def __init__(self, insert: Callable[[list[dict]], None] | None):
        self.insert = insert
        # The pool starts its thread on the first ``start``: a check never does.
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="mandate-insert")
        self._running: Future | None = None

    def start(self, rows: list[dict]) -> None:
        """Insert ``rows`` beside what the caller does next; call ``wait`` first."""
        assert self._running is None, "one chunk at a time: wait for the last one first"
        # The caller's context (its app context, so its database session) goes with it.
        context = contextvars.copy_context()
        self._running = self._pool.submit(context.run, self.insert, rows)

    def wait(self) -> None:
        """Return once no insert is running; raise the last one's error if it failed."""
        running, self._running = self._running, None
        if running is not None:
            running.result()

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        try:
            if error is None:
                self.wait()
            else:
                # The pass's own error is the one to tell; the insert is only waited for.
                self._wait_quietly()
        finally:
            self._pool.shutdown()

    def _wait_quietly(self) -> None:
        with suppress(Exception):
            self.wait()
