"""What holds and notes write on a document's timeline, and why the policy keeps a
document from being chased or debited, as msgids (``runtime.wordings``): stored in
English, shown in the reader's language."""

from __future__ import annotations

from collector.dunning.models import HoldReason
from collector.runtime.wordings import N_

# The reasons, as a word inside a sentence and as the pages name them.
REASONS = {
    HoldReason.DISPUTED: N_("disputed"),
    HoldReason.PROMISE: N_("promise to pay"),
    HoldReason.PAYMENT_PLAN: N_("payment plan"),
}

# On the timeline.
PLACED = N_("Put on hold (%(reason)s): no reminders and no direct debits.")
PLACED_PROMISE = N_(
    "Put on hold: the customer promised to pay by %(until)s. No reminders and no direct "
    "debits until then; chasing resumes the day after."
)
CUSTOMER_PLACED = N_(
    "Customer %(name)s put on hold (%(reason)s): no reminders and no direct debits."
)
CUSTOMER_PLACED_PROMISE = N_(
    "Customer %(name)s promised to pay by %(until)s. No reminders and no direct debits "
    "until then; chasing resumes the day after."
)
LIFTED = N_("Hold lifted (%(reason)s): reminders and direct debits resume.")
CUSTOMER_LIFTED = N_(
    "Hold on customer %(name)s lifted (%(reason)s): reminders and direct debits resume."
)
RESUMED = N_("The promised day (%(until)s) passed: reminders and direct debits resume.")
CUSTOMER_RESUMED = N_(
    "Customer %(name)s's promised day (%(until)s) passed: reminders and direct debits resume."
)
WHY = N_("%(text)s Why: %(note)s")
NOTE = N_("Note: %(note)s")

# Why a document is not chased or debited now (a reason inside "Reminder not sent: …").
HELD = N_("the document is on hold (%(reason)s) since %(day)s")
HELD_PROMISE = N_("the customer promised to pay by %(until)s")
CUSTOMER_HELD = N_("customer %(name)s is on hold (%(reason)s) since %(day)s")
DEBIT_UNDER_WAY = N_("a direct debit is under way")
DEBIT_ANNOUNCED = N_("a direct debit is announced for %(day)s")
WAITING_FOR_BANK = N_(
    "today's bank statement is not in yet, and a transfer may already have come in"
)
