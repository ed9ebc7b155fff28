"""What can be wrong with a row of a mandates CSV, in the words stored with the upload
(English: a job checks the file, with no reader to ask), and ``PROBLEMS.shown`` to give a
stored problem, or the file's own error (``FILE_ERRORS``), in the reader's language."""

from __future__ import annotations

from flask_babel import gettext

from collector.direct_debit.mandate_csv import FILE_PROBLEMS
from collector.direct_debit.mandates import REFERENCE_CHARACTERS_TEXT, RULES
from collector.direct_debit.wording import N_, STATE_WORDS
from collector.runtime.wordings import Wordings

# The columns a stored mandate is compared on (``mandate_rows.COMPARED``), as a problem
# names them.
COMPARED_LABELS = (N_("IBAN"), N_("BIC"), N_("signature date"), N_("profile"), N_("scheme"))

# A row's problems, stored in English with the upload and translated when shown.
OTHER_CUSTOMER = N_(
    "The reference %(reference)s belongs to a mandate of another customer (%(customer)s); "
    "a reference is never used twice."
)
PROFILE_WITHOUT_DEBIT = N_(
    "The profile %(profile)s does not allow direct debit: nothing is collected on this "
    "mandate until it does."
)
CUSTOMER_REQUIRED = N_("A customer number is required.")
NO_CUSTOMER = N_(
    "No customer has this number. Customer numbers are the Teamleader ids in the customers CSV."
)
REFERENCE_TWICE = N_(
    "The reference %(reference)s is on row %(first)s too: each mandate has its own."
)
SIGN_DATE_REQUIRED = N_("The signature date is required (YYYY-MM-DD or DD/MM/YYYY).")
NOT_A_DATE = N_("“%(text)s” is not a date: write YYYY-MM-DD or DD/MM/YYYY.")
IN_THE_FUTURE = N_("The signature date %(day)s is in the future.")
NO_PROFILE = N_("No profile is called “%(text)s” (nor has that id).")
CUSTOMER_WITHOUT_PROFILE = N_(
    "The customer has no payment profile: name one in the profile column or choose one on "
    "the customer's page."
)
BAD_SCHEME = N_("The scheme is CORE or B2B, not “%(text)s”.")
NOT_AN_EMAIL = N_("“%(text)s” is not an email address.")
SHORTENED = N_("Shortened to %(most)s characters, the most a collection carries.")
STORED_OTHERWISE = N_(
    "Mandate %(reference)s is stored with another %(labels)s; it is left as it is. A new "
    "account is a new mandate: revoke this one and upload the new one under a new reference."
)
STORED_INACTIVE = N_(
    "Mandate %(reference)s is %(status)s and stays so; a new mandate needs a new reference."
)
SIGNED_LATER = N_(
    "The customer's mandate %(reference)s on this profile is signed later: collections keep "
    "using that one."
)
REPLACES = N_(
    "Collections use this mandate instead of %(reference)s, signed earlier on the same "
    "profile; revoke that one if it no longer holds."
)


def _labels(text: str) -> str:
    """The compared columns a problem names ("IBAN, signature date"), translated."""
    return ", ".join(gettext(w) if w in COMPARED_LABELS else w for w in text.split(", "))


PROBLEMS = Wordings(
    *RULES,
    OTHER_CUSTOMER,
    PROFILE_WITHOUT_DEBIT,
    CUSTOMER_REQUIRED,
    NO_CUSTOMER,
    REFERENCE_TWICE,
    SIGN_DATE_REQUIRED,
    NOT_A_DATE,
    IN_THE_FUTURE,
    NO_PROFILE,
    CUSTOMER_WITHOUT_PROFILE,
    BAD_SCHEME,
    NOT_AN_EMAIL,
    SHORTENED,
    STORED_OTHERWISE,
    STORED_INACTIVE,
    SIGNED_LATER,
    REPLACES,
    values={
        "labels": _labels,
        "status": STATE_WORDS,
        "allowed": {REFERENCE_CHARACTERS_TEXT: REFERENCE_CHARACTERS_TEXT},
    },
)


# The file as a whole (``MandateUpload.file_error``).
NO_LONGER_STORED = N_("The uploaded file is no longer stored; upload it again.")
NO_ROWS = N_(
    "The file has no mandate rows: fill in mandateNumber, iban, bic and signDate for the "
    "customers who signed a mandate."
)
CHECK_STOPPED = N_("The check stopped: %(error)s")
COMMIT_STOPPED = N_("The commit stopped; nothing was stored: %(error)s")
FILE_ERRORS = Wordings(*FILE_PROBLEMS, NO_LONGER_STORED, NO_ROWS, CHECK_STOPPED, COMMIT_STOPPED)
