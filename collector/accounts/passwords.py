"""Checking and choosing passwords.

Every check of credentials costs exactly one password hash, whether the email is known,
the person is deactivated, has no password yet, or typed a wrong one: an unknown email is
checked against a dummy hash made with the same method and cost as real ones, so the time
an answer takes tells nothing about which emails have an account.
"""

from __future__ import annotations

import functools
import secrets

from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from collector.accounts.models import User
from collector.core.errors import Invalid
from collector.extensions import db

MIN_PASSWORD = 10
MAX_PASSWORD = 200


def verify(stored: str, password: str) -> bool:
    """Whether ``password`` matches the ``stored`` hash: the one slow step of a login."""
    return check_password_hash(stored, password)


@functools.cache
def dummy_hash() -> str:
    """A hash of a random password nobody knows, made like real ones (same cost)."""
    return generate_password_hash(secrets.token_urlsafe(16))


def credentials(email: str, password: str) -> tuple[User | None, str]:
    """The user these credentials log in, else None, and the reason for the log
    ("ok", "unknown", "inactive", "no password", "password"). One hash check, always."""
    email = (email or "").strip().lower()
    user = db.session.execute(db.select(User).filter_by(email=email)).scalar_one_or_none()
    usable = user is not None and user.has_password
    matches = verify(user.password_hash if usable else dummy_hash(), password or "")
    if user is None:
        return None, "unknown"
    if not usable:
        return None, "no password"
    if not matches:
        return None, "password"
    if not user.active:
        return None, "inactive"
    return user, "ok"


def check_new(password: str, repeated: str) -> None:
    """Refuse a new password that is too short or not typed the same twice."""
    if len(password or "") < MIN_PASSWORD:
        message = _("At least %(num)d characters.", num=MIN_PASSWORD)
        raise Invalid({"password": [message]})
    if len(password) > MAX_PASSWORD:
        raise Invalid({"password": [_("At most %(num)d characters.", num=MAX_PASSWORD)]})
    if password != repeated:
        raise Invalid({"repeat": [_("The two passwords differ.")]})


def end_sessions(user: User) -> None:
    """End every session of ``user``: each keeps the generation it began with."""
    user.session_generation = (user.session_generation or 0) + 1
