"""The operators' digest: what needs a person (``runtime.operator_alerts``), mailed to
every active admin as one email in their language, instead of one email per failure.

Made by the schedule (``accounts.jobs.send_operator_digest``) when alerts wait and the
last digest is at least OPERATOR_DIGEST_MINUTES old. Nothing is lost and nothing is sent
twice, whichever line a worker dies on:

- the alerts are taken into a digest, and the admins it is owed to are written, in one
  transaction (``start``);
- each admin is crossed off (``DigestRecipient.mailed_at``) in the transaction that writes
  their ``MailMessage`` row — the mail domain commits that row before it talks to the
  SMTP server — so an admin crossed off has a mail row, and one not crossed off is still
  owed and mailed at the next run (``owed``). A worker dying mid-send leaves the row
  "queued", as every mail does: at most once, never resent blindly.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _

from collector.accounts import alerts, users
from collector.accounts.models import Role, User
from collector.core import formatting
from collector.core.columns import utcnow
from collector.extensions import db
from collector.runtime import operator_alerts
from collector.runtime.models import DigestRecipient, OperatorAlert

KIND = "operator_digest"  # the MailMessage kind

# The page an alert is fixed on → its address (the job builds it from PUBLIC_BASE_URL).
Link = Callable[[str], str]


def due(every: timedelta, now: datetime | None = None) -> bool:
    """Whether a digest may be made: alerts wait and the last digest is ``every`` old."""
    now = now or utcnow()
    last = operator_alerts.last_digest_at()
    if last is not None and now - last < every:
        return False
    return bool(
        db.session.scalar(
            sa.select(OperatorAlert.id).where(OperatorAlert.digest_id.is_(None)).limit(1)
        )
    )


def start(now: datetime | None = None) -> int | None:
    """Take the waiting alerts into a digest owed to every active admin; commits. The
    digest's id, or None when nothing waits or there is no one to tell."""
    admins = users.admins()
    if not admins:
        db.session.rollback()
        return None  # the alerts wait for an admin
    digest = operator_alerts.take_waiting(now)
    if digest is None:
        db.session.rollback()
        return None
    db.session.add_all(DigestRecipient(digest_id=digest.id, user_id=a.id) for a in admins)
    db.session.commit()
    return digest.id


def owed() -> list[int]:
    """The ``DigestRecipient`` rows not mailed yet (a run stopped before it mailed them)."""
    query = sa.select(DigestRecipient.id).where(DigestRecipient.mailed_at.is_(None))
    return list(db.session.scalars(query.order_by(DigestRecipient.id)))


def mail_one(recipient_id: int, link: Link, now: datetime | None = None) -> bool:
    """Mail one admin their digest, once: False when another run has, or they are no
    longer an active admin (then they are crossed off unmailed)."""
    claim = (
        sa.update(DigestRecipient)
        .where(DigestRecipient.id == recipient_id, DigestRecipient.mailed_at.is_(None))
        .values(mailed_at=now or utcnow())
    )
    if db.session.execute(claim).rowcount != 1:
        db.session.rollback()
        return False
    recipient = db.session.get(DigestRecipient, recipient_id)
    user = db.session.get(User, recipient.user_id)
    if user is None or not user.active or user.role != Role.ADMIN:
        db.session.commit()
        return False
    items = operator_alerts.of_digest(recipient.digest_id)
    # Commits the claim with the MailMessage row before the mail goes out.
    alerts.notify_user(user, kind=KIND, letter=lambda: letter(items, link))
    return True


def send(link: Link, every: timedelta, now: datetime | None = None) -> int:
    """Make a digest if one is ``due``, then mail every admin a digest is still owed to
    (this one's, and those of a run that stopped); how many mails went out."""
    if due(every, now):
        start(now)
    return sum(mail_one(recipient_id, link, now) for recipient_id in owed())


def letter(items: list[OperatorAlert], link: Link) -> tuple[str, str]:
    """The digest in the current locale: the alerts grouped by kind, each kind with the
    page where it is fixed."""
    subject = ngettext(
        "%(num)s thing needs a person in collector",
        "%(num)s things need a person in collector",
        len(items),
    )
    parts = [_("Since the last digest, these need someone to look at them:")]
    for kind in operator_alerts.KINDS:
        of_kind = [item for item in items if item.kind == kind]
        if of_kind:
            parts.append(_section(kind, of_kind, link))
    parts.append(_("You receive this digest because you are an admin of collector."))
    return subject, "\n\n".join(parts) + "\n"


def _section(kind: str, items: list[OperatorAlert], link: Link) -> str:
    heading, to_do = _wording(kind)
    lines = [heading, "-" * len(heading)]
    lines += [_line(item) for item in items]
    pages = dict.fromkeys(link(item.endpoint) for item in items)
    lines += ["", to_do, *pages]
    return "\n".join(lines)


def _line(item: OperatorAlert) -> str:
    # A subject is a name (a document, a service, a job) or, for a few, an English phrase
    # its recorder marked for translation ("Payment provider").
    line = f"- {_(item.subject)}: {item.fact}"
    if item.count == 1:
        return line
    seen = _(
        "×%(count)s, from %(first)s to %(last)s",
        count=item.count,
        first=formatting.format_datetime(item.first_seen, locale=_locale()),
        last=formatting.format_datetime(item.last_seen, locale=_locale()),
    )
    return f"{line} ({seen})"


def _locale() -> str:
    return str(get_locale() or "en")


def _wording(kind: str) -> tuple[str, str]:
    if kind == operator_alerts.CONNECTION:
        return _("Connections that stopped working"), _(
            "Nothing reaches these services until someone connects again or replaces the key:"
        )
    if kind == operator_alerts.EXACT_REFUSED:
        return _("Documents Exact Online keeps refusing"), _(
            "They are tried again at every run. The sync history shows each attempt:"
        )
    if kind == operator_alerts.SYNC_REFUSED:
        return _("Payment statuses Teamleader refused"), _(
            "Nothing is sent for them until someone looks. The sync problems page lists them:"
        )
    return _("Jobs that failed"), _("The job history shows each run and its error:")
