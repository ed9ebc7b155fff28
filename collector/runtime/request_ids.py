"""The request id: one name for a request and for every job it starts, so their log lines
can be found together.

A request brings its own in ``X-Request-ID`` (a reverse proxy's, a caller's) when that is
a plain token of letters, digits and ``._-`` of a sensible length; anything else is
replaced by a new one, so no header can write into the logs. The id is answered in the
response's ``X-Request-ID``, kept in the meta of every rq job the request enqueues, and
set again while that job runs (``collector.runtime.queue``).
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import uuid
from collections.abc import Iterator

HEADER = "X-Request-ID"
META_KEY = "request_id"  # in an rq job's meta
VALID = re.compile(r"[A-Za-z0-9._-]{8,128}")

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def new() -> str:
    return uuid.uuid4().hex


def accept(value: str | None) -> str:
    """The id a request brought when it is acceptable, else a new one."""
    if value and VALID.fullmatch(value):
        return value
    return new()


def current() -> str | None:
    """The id of the request (or of the request that started the job) this code runs for."""
    return _current.get()


def begin(value: str | None) -> contextvars.Token:
    return _current.set(value)


def end(token: contextvars.Token) -> None:
    _current.reset(token)


@contextlib.contextmanager
def using(value: str | None) -> Iterator[None]:
    """Run the block under ``value`` (a job under the id of the request that started it)."""
    token = _current.set(value)
    try:
        yield
    finally:
        _current.reset(token)
