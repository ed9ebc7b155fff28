"""Logging in and out: the throttle, the one password check, the audit rows.

Every attempt leaves an audit row: ``login.succeeded``, ``login.failed`` (with why, for
the admins' eyes only: the person is told the same thing whatever the reason) or
``login.throttled``. The actor of a failure is the email as typed; no password is ever
written anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from collector.accounts import audit, passwords
from collector.accounts.models import User
from collector.accounts.throttle import LoginThrottle
from collector.extensions import db


@dataclass(frozen=True)
class Attempt:
    """What a login attempt came to: the user, or why not."""

    user: User | None
    wait: timedelta | None = None  # refused unchecked: too many failures; wait this long


def log_in(
    email: str, password: str, *, address: str | None, throttle: LoginThrottle, now: datetime
) -> Attempt:
    """Check a login attempt and record it; commits."""
    typed = (email or "").strip().lower()[:254]
    wait = throttle.wait(typed, address, now)
    if wait is not None:
        audit.record("login.throttled", actor=typed, details={"wait_seconds": _seconds(wait)})
        db.session.commit()
        return Attempt(None, wait)
    user, reason = passwords.credentials(typed, password)
    if user is None:
        throttle.failed(typed, address, now)
        audit.record("login.failed", actor=typed, details={"reason": reason})
        db.session.commit()
        return Attempt(None)
    throttle.succeeded(typed)
    user.last_login_at = now
    audit.record("login.succeeded", actor=f"user:{user.email}", target=f"user:{user.id}")
    db.session.commit()
    return Attempt(user)


def log_out(user: User) -> None:
    """End every session of ``user`` (a copied cookie too) and record it; commits."""
    passwords.end_sessions(user)
    audit.record("logout", actor=f"user:{user.email}", target=f"user:{user.id}")
    db.session.commit()


def minutes(wait: timedelta) -> int:
    """The whole minutes to tell a person to wait (at least one)."""
    return max(1, -(-_seconds(wait) // 60))


def _seconds(wait: timedelta) -> int:
    return int(-(-wait.total_seconds() // 1))
