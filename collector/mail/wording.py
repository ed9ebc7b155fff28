"""What delivering invitations and reminders writes on a document's timeline, as msgids
(``runtime.wordings``): stored in English, shown in the reader's language. The mail
server's own words (an error) are told as they came."""

from __future__ import annotations

from collector.documents.models import DocumentMail, DocumentMailKind
from collector.dunning import schedule
from collector.dunning.models import StepKind
from collector.runtime.wordings import N_, Sentence, says, word

INVITATION = DocumentMailKind.INVITATION
REMINDER = DocumentMailKind.REMINDER
MANDATE_UNUSABLE = DocumentMailKind.MANDATE_UNUSABLE

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
    (MANDATE_UNUSABLE, True): N_(
        "Mail about the unusable mandate sent to %(recipient)s (payment link, new mandate), "
        "with the PDF."
    ),
    (MANDATE_UNUSABLE, False): N_(
        "Mail about the unusable mandate sent to %(recipient)s (payment link, new mandate), "
        "without a PDF."
    ),
}
# A dunning step's mail: its kind (STEP_WORDS), its place in the schedule and its day.
STEP_SENT = {
    True: N_(
        "%(step)s (step %(number)s, %(days)s days after the due date) sent to %(recipient)s, "
        "with the PDF."
    ),
    False: N_(
        "%(step)s (step %(number)s, %(days)s days after the due date) sent to %(recipient)s, "
        "without a PDF."
    ),
}
STEP_WORDS = {
    StepKind.REMINDER: N_("Reminder"),
    StepKind.FINAL_NOTICE: N_("Final notice"),
    StepKind.HAND_OFF: N_("Hand-off"),
}
ANNOUNCES = N_("%(sent)s It announces the direct debit on %(day)s.")
FAILED = N_("Email to %(recipient)s failed: %(error)s. Next try %(at)s.")
GAVE_UP = N_("Email to %(recipient)s failed %(attempts)s times: %(error)s. Not retried.")
NOT_SENT = {
    INVITATION: N_("Invitation not sent: %(reason)s."),
    REMINDER: N_("Reminder not sent: %(reason)s."),
    MANDATE_UNUSABLE: N_("Mail about the unusable mandate not sent: %(reason)s."),
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
    MANDATE_UNUSABLE: N_(
        "The mail about the unusable mandate to %(email)s may or may not have gone out: the "
        "worker stopped while sending it. Check the mail log."
    ),
}
# Why a mail is no longer owed.
CREDIT_NOTE = N_("credit notes are not collected")
NOT_OPEN = N_("the document is %(state)s with %(due)s due")
NO_ADDRESS = N_("customer %(name)s has no email address")
NOT_OVERDUE = N_("the due date moved: the document is not overdue any more")

SENTENCES = (
    ANNOUNCES,
    *STEP_SENT.values(),
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


def step_sent(row: DocumentMail, with_pdf: bool) -> Sentence:
    """What a step's reminder sent says: which step of the schedule was reached. A row
    whose step is gone (the schedule changed) says only its day, as before steps."""
    step = schedule.step_for(row.invoice.profile_id, row.days_overdue)
    if step is None:
        return says(SENT[REMINDER, with_pdf], days=row.days_overdue, recipient=row.recipient)
    name = word(STEP_WORDS[step.kind])
    number = schedule.step_number(step)
    values = {"step": name, "number": number, "days": step.days, "recipient": row.recipient}
    return says(STEP_SENT[with_pdf], **values)
