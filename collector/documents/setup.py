"""Builds what the documents domain talks to the outside world with: the HTTP session
status callbacks are POSTed through."""

from __future__ import annotations

import requests

from collector.documents import callbacks


def callback_session() -> requests.Session:
    """A session that names the status callbacks in its User-Agent; one per job."""
    session = requests.Session()
    session.headers["User-Agent"] = callbacks.USER_AGENT
    session.headers["Accept"] = "application/json"
    return session
