"""What delivering invitations and reminders writes on a document's timeline, as msgids
(``runtime.wordings``): stored in English, shown in the reader's language. The mail
server's own words (an error) are told as they came."""

from __future__ import annotations

from collector.documents.models import DocumentMailKind
from collector.runtime.wordings import N_

INVITATION = DocumentMailKind.INVITATION
REMINDER = DocumentMailKind.REMINDER

# Sent, by kind and by whether the PDF went with it.
SENT = {
    (INVITATION, True): N_("Invitation sent to %(recipient)s, with the PDF."),
    (INVITATION, False): N_("Invitation sent to %(recipient)s, without a PDF."),
    (REMINDER, True): N_(
        "Reminder (%(days)s days after the due date) sent to %(recipient)s, with the PDF."
    ),
    (REMINDER, False): N_(
        "Reminder (%(days)s days after the due date) sent to %(recipient)s, without a PDF."
    ),
}
ANNOUNCES = N_("%(sent)s It announces the direct debit on %(day)s.")
FAILED = N_("Email to %(recipient)s failed: %(error)s. Next try %(at)s.")
GAVE_UP = N_("Email to %(recipient)s failed %(attempts)s times: %(error)s. Not retried.")
NOT_SENT = {
    INVITATION: N_("Invitation not sent: %(reason)s."),
    REMINDER: N_("Reminder not sent: %(reason)s."),
}
UNCERTAIN = {
    INVITATION: N_(
        "The invitation to %(email)s may or may not have gone out: the worker stopped while "
        "sending it. Check the mail log; send again if needed."
    ),
    REMINDER: N_(
        "The reminder to %(email)s may or may not have gone out: the worker stopped while "
        "sending it. Check the mail log; send again if needed."
    ),
}
# Why a mail is no longer owed.
CREDIT_NOTE = N_("credit notes are not collected")
NOT_OPEN = N_("the document is %(state)s with %(due)s due")
NO_ADDRESS = N_("customer %(name)s has no email address")
NOT_OVERDUE = N_("the due date moved: the document is not overdue any more")

SENTENCES = (
    ANNOUNCES,
    *SENT.values(),
    GAVE_UP,
    FAILED,
    *NOT_SENT.values(),
    *UNCERTAIN.values(),
    CREDIT_NOTE,
    NOT_OPEN,
    NO_ADDRESS,
    NOT_OVERDUE,
)
