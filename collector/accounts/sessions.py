"""Sessions a person can end, and that end on their own.

At login the session keeps the user's session generation and the times it began and was
last used. Each request compares them: a generation that moved on (logout, a new password,
deactivation: ``passwords.end_sessions``) ends the session wherever its cookie is, even a
copy taken before logout; so does a session unused for longer than the idle lifetime or
older than the absolute one. The cookie is signed, not secret: it holds no more than this.
No Flask here: the caller hands in the session mapping and the time.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from collector.accounts.models import User

GENERATION = "generation"
STARTED = "started"
SEEN = "seen"
# "Last used" is written back at most this often: not a new cookie on every request.
SEEN_STEP = timedelta(minutes=1)


@dataclass(frozen=True)
class Lifetimes:
    idle: timedelta = timedelta(hours=8)
    longest: timedelta = timedelta(days=7)


def begin(session: MutableMapping, user: User, now: datetime) -> None:
    """Mark ``session`` as ``user``'s, begun ``now``."""
    session[GENERATION] = user.session_generation
    session[STARTED] = session[SEEN] = int(now.timestamp())


def renew_generation(session: MutableMapping, user: User) -> None:
    """Keep this session alive after ``user``'s generation moved on (their own new
    password ends their other sessions, not the one they changed it in)."""
    session[GENERATION] = user.session_generation


def still_valid(session: MutableMapping, user: User, now: datetime, limits: Lifetimes) -> bool:
    """Whether ``session`` may still act as ``user``; marks it used when it may."""
    started, seen = session.get(STARTED), session.get(SEEN)
    if session.get(GENERATION) != user.session_generation or started is None or seen is None:
        return False
    at = int(now.timestamp())
    if at - seen > limits.idle.total_seconds() or at - started > limits.longest.total_seconds():
        return False
    if at - seen >= SEEN_STEP.total_seconds():
        session[SEEN] = at
    return True
