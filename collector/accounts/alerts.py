"""Emails to people about work that needs them, for every domain to send: an import's
summary to whoever started it, and alerts to every admin ("a document keeps failing in
Exact Online", "Teamleader refused the payment status of a document").

Admins are accounts, so this lives here. Sending an email is the mail domain's, which
the domains that raise alerts may not import (README › Architecture): mail connects its
sender when the app is made (``collector.mail.jobs.connect``), and each notice becomes a
``MailMessage`` row like every other email.
"""

from __future__ import annotations

from blinker import Namespace

from collector.accounts import users

_signals = Namespace()

# A notice must go out. Sender: the recipient's address; ``kind``, ``subject``, ``text``.
# Its receiver returns False when the delivery failed.
notice = _signals.signal("notice")


def notify(recipient: str, *, kind: str, subject: str, text: str) -> bool:
    """Email ``recipient``; False when the delivery failed (the mail log shows it either way).

    Raises when nothing sends notices: the app was not made with ``create_app``.
    """
    results = notice.send(recipient, kind=kind, subject=subject, text=text)
    if not results:
        raise RuntimeError("nothing sends notices: build the app with create_app")
    return all(sent for _receiver, sent in results)


def alert_admins(*, kind: str, subject: str, text: str) -> None:
    """Email every admin about something a person must look at."""
    for email in users.admin_emails():
        notify(email, kind=kind, subject=subject, text=text)
