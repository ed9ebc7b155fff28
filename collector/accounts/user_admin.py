"""Admins manage the people who log in: invite one (a one-time link to choose a password),
change a role, deactivate and reactivate, send a link to reset a password. Each change is
an audit row in the same commit. There is always an active admin left: no change may take
away the last one.

Anyone may also ask for a reset link on the login page (``request_reset``): whether the
email has an account is never told, only the audit log shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _

from collector.accounts import audit, languages, password_links, passwords
from collector.accounts.models import LinkPurpose, Role, User
from collector.core.errors import Conflict, Invalid, NotFound
from collector.extensions import db


@dataclass(frozen=True)
class LinkSent:
    """A link that went out by mail (``delivered``), or did not and must be handed over."""

    user: User
    url: str
    delivered: bool


def all_users() -> list[User]:
    """Everyone who may log in or once could, by email."""
    return list(db.session.scalars(db.select(User).order_by(User.email)))


def get(user_id: int) -> User:
    """The user with this id; NotFound otherwise."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    return user


def invite(
    email: str, role: str, locale: str, *, link_base: str, now: datetime, lifetime: timedelta
) -> LinkSent:
    """Make a user without a password and mail them a link to choose one. Commits."""
    email = (email or "").strip().lower()
    errors: dict[str, list[str]] = {}
    if "@" not in email or len(email) > 254 or any(c.isspace() for c in email):
        errors["email"] = [_("A valid email address is required.")]
    elif db.session.execute(db.select(User.id).filter_by(email=email)).first():
        errors["email"] = [_("A user with this email already exists.")]
    if role not in {r.value for r in Role}:
        errors["role"] = [_("Choose a role.")]
    if locale and languages.normalize(locale) != locale:
        errors["locale"] = [_("Unknown language.")]
    if errors:
        raise Invalid(errors)
    user = User(email=email, role=Role(role), password_hash="", locale=locale or None)
    db.session.add(user)
    db.session.flush()
    audit.record("user.created", target=f"user:{user.id}", details={"email": email, "role": role})
    return _send_link(user, LinkPurpose.INVITATION, link_base, now, lifetime)


def send_reset(user: User, *, link_base: str, now: datetime, lifetime: timedelta) -> LinkSent:
    """Mail ``user`` a link to choose a new password (an invited user: a new invitation).
    Their password works until they use it. Commits."""
    if not user.active:
        raise Conflict(_("%(email)s is deactivated: reactivate them first.", email=user.email))
    purpose = LinkPurpose.RESET if user.has_password else LinkPurpose.INVITATION
    audit.record("user.password_reset_sent", target=f"user:{user.id}", details={"by": "admin"})
    return _send_link(user, purpose, link_base, now, lifetime)


def request_reset(
    email: str, *, link_base: str, now: datetime, lifetime: timedelta
) -> Callable[[], bool] | None:
    """Someone on the login page forgot their password: if ``email`` is an active user's,
    make a link and return the mail to send, which the caller sends once its answer has
    gone (sending first would make a known address's answer slower than an unknown one's).
    None when nothing is owed. Commits."""
    email = (email or "").strip().lower()[:254]
    user = db.session.execute(db.select(User).filter_by(email=email)).scalar_one_or_none()
    if user is None or not user.active:
        return None
    purpose = LinkPurpose.RESET if user.has_password else LinkPurpose.INVITATION
    audit.record(
        "user.password_reset_sent",
        actor=email,
        target=f"user:{user.id}",
        details={"by": "self"},
    )
    token = password_links.issue(user, purpose, now=now, lifetime=lifetime)
    db.session.commit()
    user_id, url = user.id, link_base + token

    def deliver() -> bool:
        return password_links.send(db.session.get(User, user_id), purpose, url, lifetime)

    return deliver


def change_role(user: User, role: str) -> User:
    """Give ``user`` another role. Commits."""
    if role not in {r.value for r in Role}:
        raise Invalid({"role": [_("Choose a role.")]})
    before = user.role
    if before == Role(role):
        return user
    _lock_admins()
    user.role = Role(role)
    _keep_an_admin()
    audit.record(
        "user.role_changed",
        target=f"user:{user.id}",
        details={"email": user.email, "from": before.value, "to": role},
    )
    db.session.commit()
    return user


def deactivate(user: User, *, now: datetime) -> User:
    """``user`` can no longer log in; their sessions and open links end. Commits."""
    if not user.active:
        return user
    _lock_admins()
    user.active = False
    _keep_an_admin()
    passwords.end_sessions(user)
    password_links.retire(user, now)
    audit.record("user.deactivated", target=f"user:{user.id}", details={"email": user.email})
    db.session.commit()
    return user


def reactivate(user: User) -> User:
    """``user`` may log in again (with the password they had). Commits."""
    if user.active:
        return user
    user.active = True
    audit.record("user.reactivated", target=f"user:{user.id}", details={"email": user.email})
    db.session.commit()
    return user


def change_own_password(user: User, current: str, password: str, repeated: str) -> User:
    """``user`` chooses a new password, giving the current one; their other sessions end.
    Commits."""
    if not passwords.verify(user.password_hash or passwords.dummy_hash(), current or ""):
        raise Invalid({"current": [_("This is not your current password.")]})
    passwords.check_new(password, repeated)
    user.set_password(password)
    passwords.end_sessions(user)
    audit.record(
        "user.password_changed",
        actor=f"user:{user.email}",
        target=f"user:{user.id}",
        details={"by": "self"},
    )
    db.session.commit()
    return user


def _send_link(
    user: User, purpose: LinkPurpose, link_base: str, now: datetime, lifetime: timedelta
) -> LinkSent:
    token = password_links.issue(user, purpose, now=now, lifetime=lifetime)
    db.session.commit()  # the link exists before the mail that carries it
    url = link_base + token
    delivered = password_links.send(user, purpose, url, lifetime)
    return LinkSent(user, url, delivered)


def _lock_admins() -> None:
    # Two admins demoting each other at once must not both see the other still there: the
    # active admins' rows are locked (in id order) until the change commits.
    query = db.select(User.id).where(User.role == Role.ADMIN, User.active).order_by(User.id)
    db.session.execute(query.with_for_update())


def _keep_an_admin() -> None:
    db.session.flush()
    left = db.session.execute(
        db.select(db.func.count(User.id)).where(User.role == Role.ADMIN, User.active)
    ).scalar_one()
    if left == 0:
        db.session.rollback()
        raise Conflict(_("There must always be an active admin: make someone else admin first."))
