"""Emails to people about work that needs them, for every domain to send: an import's
summary to whoever started it, the operators' digest (``accounts.digest``), and the rare
notice every admin must read at once ("a customer revoked a mandate a run still collects
on"). Failures that need a person are not mailed from here one by one: they are recorded
(``runtime.operator_alerts``) and go out in the digest.

Each is written in its reader's language: the locale they picked in the UI, else English
(a browser's language is not known outside a request). The sender passes a ``letter``, a
function that writes the subject and text with ``gettext``; it is called once per
recipient under ``flask_babel.force_locale``, which works in a job as in a request (it
needs an app context; without one the letter is written in English).

Admins are accounts, so this lives here. Sending an email is the mail domain's, which
the domains that raise alerts may not import (README › Architecture): mail connects its
sender when the app is made (``collector.mail.jobs.connect``), and each notice becomes a
``MailMessage`` row like every other email.
"""

from __future__ import annotations

from collections.abc import Callable

from blinker import Namespace
from flask_babel import force_locale

from collector.accounts import languages, users
from collector.accounts.models import User

_signals = Namespace()

# A notice must go out. Sender: the recipient's address; ``kind``, ``subject``, ``text``,
# and ``kept_text``: what the mail log keeps instead of the text (None: the text itself).
# Its receiver returns False when the delivery failed.
notice = _signals.signal("notice")

# Writes a notice in the current locale: (subject, text).
Letter = Callable[[], tuple[str, str]]


# What the mail log keeps of a mail instead of a one-time link it carried.
LINK_LEFT_OUT = "[one-time link left out of the log]"


def notify(
    recipient: str, *, kind: str, subject: str, text: str, secret: str | None = None
) -> bool:
    """Email ``recipient``; False when the delivery failed (the mail log shows it either way).
    A ``secret`` in the text (a one-time link) goes out but is left out of the mail log.

    Raises when nothing sends notices: the app was not made with ``create_app``.
    """
    kept = text.replace(secret, LINK_LEFT_OUT) if secret else None
    results = notice.send(recipient, kind=kind, subject=subject, text=text, kept_text=kept)
    if not results:
        raise RuntimeError("nothing sends notices: build the app with create_app")
    return all(sent for _receiver, sent in results)


def locale_of(user: User) -> str:
    """The locale ``user`` reads their mail in: the one they picked, else English."""
    return languages.normalize(user.locale) or languages.DEFAULT


def notify_user(user: User, *, kind: str, letter: Letter, secret: str | None = None) -> bool:
    """Email ``user`` what ``letter`` writes, in their language; False when it failed."""
    with force_locale(locale_of(user)):
        subject, text = letter()
    return notify(user.email, kind=kind, subject=subject, text=text, secret=secret)


def alert_admins(*, kind: str, letter: Letter) -> None:
    """Email every active admin, now, about something that cannot wait for the digest,
    each in their language."""
    for admin in users.admins():
        notify_user(admin, kind=kind, letter=letter)
