"""Builds what the documents domain talks to the outside world with: the HTTP session
status callbacks are POSTed through."""

from __future__ import annotations

import requests

from collector.core.outbound import OutboundGuard
from collector.documents import callbacks


def callback_session(guard: OutboundGuard) -> requests.Session:
    """A session that names the status callbacks in its User-Agent and reaches only the
    addresses ``guard`` allows; one per job."""
    return guard.session(callbacks.USER_AGENT)
