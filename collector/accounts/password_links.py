"""One-time links to choose a password: an invited user's first, anyone's reset.

The token is in the mail only: the table keeps its SHA-256 hash, and the mail log keeps
the mail without the link. A link works once, until it expires; a newer link, a new
password or a deactivation retires the ones still open.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask_babel import gettext as _

from collector.accounts import alerts, audit, passwords
from collector.accounts.models import LinkPurpose, PasswordLink, User
from collector.core.errors import NotFound
from collector.extensions import db

MAIL_KINDS = {LinkPurpose.INVITATION: "user_invitation", LinkPurpose.RESET: "password_reset"}


def hash_token(token: str) -> str:
    """Tokens carry 256 random bits: a fast hash makes a stolen table useless."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue(user: User, purpose: LinkPurpose, *, now: datetime, lifetime: timedelta) -> str:
    """A new link for ``user`` (the older ones retired); returns its token, which is never
    stored. The caller commits."""
    retire(user, now)
    token = secrets.token_urlsafe(32)
    link = PasswordLink(
        user_id=user.id,
        purpose=purpose,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + lifetime,
    )
    db.session.add(link)
    return token


def retire(user: User, now: datetime) -> None:
    """Every open link of ``user`` stops working."""
    query = db.select(PasswordLink).filter_by(user_id=user.id, used_at=None)
    for link in db.session.scalars(query):
        link.used_at = now


def find(token: str, now: datetime) -> PasswordLink | None:
    """The open link with this token, for an active user, or None."""
    if not token or len(token) > 100:
        return None
    link = db.session.execute(
        db.select(PasswordLink).filter_by(token_hash=hash_token(token))
    ).scalar_one_or_none()
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    return link if link.user.active else None


def use(token: str, password: str, repeated: str, *, now: datetime) -> User:
    """Set the password a link was sent for; the link and every session end. Commits."""
    link = find(token, now)
    if link is None:
        raise NotFound(_("This link has expired or was used already. Ask for a new one."))
    passwords.check_new(password, repeated)
    user = link.user
    user.set_password(password)
    passwords.end_sessions(user)
    retire(user, now)
    audit.record(
        "user.password_changed",
        actor=f"user:{user.email}",
        target=f"user:{user.id}",
        details={"by": link.purpose.value},
    )
    db.session.commit()
    return user


def send(user: User, purpose: LinkPurpose, url: str, lifetime: timedelta) -> bool:
    """Mail ``user`` the link at ``url`` in their language; False when delivery failed.
    The mail log keeps the mail without the link."""
    hours = int(lifetime.total_seconds() // 3600)

    def letter() -> tuple[str, str]:
        if purpose == LinkPurpose.INVITATION:
            return _invitation(user, url, hours)
        return _reset(user, url, hours)

    return alerts.notify_user(user, kind=MAIL_KINDS[purpose], letter=letter, secret=url)


def _invitation(user: User, url: str, hours: int) -> tuple[str, str]:
    subject = _("Your login to collector")
    text = _(
        "Hello,\n\nAn account was made for you (%(email)s) in collector, where the finance "
        "team follows invoices and payments. Choose your password with this link; it "
        "works once, for %(hours)d hours:\n\n%(link)s\n\nIf you did not expect this "
        "mail, you can ignore it.",
        email=user.email,
        hours=hours,
        link=url,
    )
    return subject, text


def _reset(user: User, url: str, hours: int) -> tuple[str, str]:
    subject = _("Choose a new password for collector")
    text = _(
        "Hello,\n\nA new password was asked for your login to collector (%(email)s). "
        "Choose one with this link; it works once, for %(hours)d hours:\n\n%(link)s\n\n"
        "If you did not ask for it, ignore this mail: your password stays as it is.",
        email=user.email,
        hours=hours,
        link=url,
    )
    return subject, text
