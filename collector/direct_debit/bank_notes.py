"""What the bank files tell a person: a bank transaction's note (why its money was not
applied, or why it changed nothing), stored in English with the file, which ``NOTES.shown``
gives in the reader's language on the bank-file pages (``wording``); and why the reader
of a file refused it (``REFUSALS``), said to the person uploading it in their language.

Amounts inside a note are written as the person who uploaded the file reads money
(``wording.money_text``).
"""

from __future__ import annotations

from flask_babel import gettext

from collector.direct_debit import reason_codes
from collector.direct_debit.files import detect
from collector.direct_debit.files import reading as parser
from collector.direct_debit.wording import N_, STATE_WORDS
from collector.runtime.wordings import Wordings

# -- collections ----------------------------------------------------------------------------
ALREADY = N_("The collection was %(status)s already: nothing changed.")
ARRIVED_LATE = N_(
    "Collection %(collection)s was %(status)s before this credit arrived, so it was not "
    "applied: match it by hand or dismiss it."
)
BATCH_DIFFERS = N_(
    "Batch %(batch)s credits %(amount)s, but its collections still standing total "
    "%(total)s: nothing was settled."
)
# Money taken back cannot pay a document, so only a credit is offered a match.
CREDIT_DIFFERS = N_(
    "Collection %(collection)s was for %(expected)s, but the bank booked %(booked)s: "
    "nothing was applied. Check with the bank, then dismiss it or match it by hand."
)
DEBIT_DIFFERS = N_(
    "Collection %(collection)s was for %(expected)s, but the bank booked %(booked)s: "
    "nothing was applied. Check with the bank, then dismiss it."
)

# -- transfers ------------------------------------------------------------------------------
CAME_BACK = N_(
    "A transfer we sent came back (%(reason)s): this is not a customer's payment. Pay it "
    "again to the right account, then dismiss this."
)
BAD_CHECK_DIGITS = N_(
    "The reference %(reference)s is not a valid structured reference (its check digits are "
    "wrong), so it names no document for sure."
)
NO_REFERENCE = N_("The transfer carries no structured reference.")
UNKNOWN_REFERENCE = N_("No document carries the reference %(reference)s.")
CREDIT_NOTE = N_("The reference is credit note %(number)s's, which is never paid.")
BEING_COLLECTED = N_("%(number)s is being collected by direct debit: paid twice?")
CLOSED = N_("%(number)s is %(state)s already: paid twice?")
OTHER_CURRENCY = N_("%(number)s is in %(currency)s, the transfer in %(received)s.")
MORE_THAN_DUE = N_("%(amount)s is more than the %(due)s due on %(number)s.")
DOUBLE_PAYMENT = N_(
    "%(number)s is paid already: a possible double payment. Refund it to the payer or keep "
    "it as a credit for the customer."
)

NOTES = Wordings(
    ALREADY,
    ARRIVED_LATE,
    BATCH_DIFFERS,
    CREDIT_DIFFERS,
    DEBIT_DIFFERS,
    CAME_BACK,
    BAD_CHECK_DIGITS,
    NO_REFERENCE,
    UNKNOWN_REFERENCE,
    CREDIT_NOTE,
    BEING_COLLECTED,
    CLOSED,
    OTHER_CURRENCY,
    MORE_THAN_DUE,
    DOUBLE_PAYMENT,
    values={
        "status": STATE_WORDS,
        "state": STATE_WORDS,
        "reason": reason_codes.shown_description,
    },
)


# -- refused files --------------------------------------------------------------------------


def _formats(text: str) -> str:
    """The formats a refusal lists ("camt.053 and …; pain.002 …"), translated."""
    return "; ".join(gettext(f) if f in detect.FORMATS else f for f in text.split("; "))


# A file the parser refuses is told why in the reader's language.
REFUSALS = Wordings(
    *parser.REFUSALS,
    values={"what": {what: what for what in detect.WHATS}, "formats": _formats},
)
