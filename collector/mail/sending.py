"""Sending email: every message becomes a ``MailMessage`` row saying what was sent and how."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from collector.core.columns import utcnow
from collector.extensions import db
from collector.mail.models import MailMessage, MailStatus
from collector.mail.smtp import Attachment, Email, Mailer, MailError, build_message

log = logging.getLogger(__name__)


def send_mail(
    mailer: Mailer,
    sender: str,
    *,
    kind: str,
    recipient: str,
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Sequence[Attachment] = (),
    kept_text: str | None = None,
) -> MailMessage:
    """Record one email, try to deliver it once, and return the row with the outcome.
    ``kept_text`` is what the row keeps instead of ``text`` when that holds a secret (a
    one-time link to choose a password).

    A delivery failure does not raise: the row's status is ``failed`` and ``error`` says
    why. A bad address or a header injection attempt raises ValueError before any row is
    written. Commits the session.
    """
    email = Email(recipient, subject, text, html, attachments)
    message = build_message(sender, email)
    _check_fits(kind=kind, recipient=recipient, subject=subject)
    row = MailMessage(
        kind=kind,
        recipient=recipient,
        subject=subject,
        body_text=text if kept_text is None else kept_text,
        body_html=html,
        attachments=[
            {"filename": name, "mimetype": mimetype, "size": len(content)}
            for name, content, mimetype in attachments
        ],
        status=MailStatus.QUEUED,
        attempts=0,
    )
    db.session.add(row)
    # Committed before talking to SMTP: no transaction stays open for the length of a slow
    # server, and a crash mid-send leaves a queued row rather than no trace.
    db.session.commit()
    row.attempts += 1
    try:
        mailer.send(message)
    except MailError as exc:
        log.warning("%s mail %s to %s failed: %s", kind, row.id, recipient, exc.reason)
        row.status = MailStatus.FAILED
        row.error = exc.reason[: _length("error")]
    else:
        row.status = MailStatus.SENT if mailer.delivers else MailStatus.STORED
        row.error = None
        row.sent_at = utcnow()
    db.session.commit()
    return row


def _check_fits(**values: str) -> None:
    # PostgreSQL refuses an overlong value and SQLite keeps it: refuse it the same way on both.
    for column, value in values.items():
        if len(value) > _length(column):
            raise ValueError(f"{column} longer than {_length(column)} characters")


def _length(column: str) -> int:
    return MailMessage.__table__.c[column].type.length
