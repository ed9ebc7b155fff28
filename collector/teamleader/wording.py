"""What the Teamleader domain writes on a document's timeline, as msgids (``runtime.wordings``).

Stored in English (the API and the logs read it), kept with its values, shown in the
reader's language. ``SENTENCES`` are those an older row is recognised by, the ones that
start with a fixed text before any that start with a value.
"""

from __future__ import annotations

from collector.runtime.wordings import N_

CREDITED = N_("Credited %(credited)s in total; still due %(due)s.")
ARCHIVED_BY_CREDIT = N_("Archived: fully credited.")
PAID_WITH_CREDIT = N_("Paid: payments and credit notes cover it.")
OPEN_AGAIN = N_("Open again: a credit note was removed.")
CREDITS_INVOICE = N_("Credits invoice %(number)s.")
CREDIT_NOTE_REMOVED = N_("Credit note %(note)s removed with its import #%(run)s.")
SHOWS = N_("Teamleader shows it %(status)s.")
SHOWS_DUE = N_("Teamleader shows it %(status)s, %(due)s due.")
CHANGED = N_("Changed in Teamleader after import: %(changes)s. Not applied here.")
PDF_FETCHED = N_("PDF fetched (%(size)s bytes).")
PDF_REFUSED = N_("PDF not fetched: %(reason)s. Next try after %(at)s.")
NO_SUCH_DOCUMENT = N_("Teamleader has no such document any more")
DOWNLOAD_REFUSED = N_("Teamleader refused the download: %(error)s")
IN_LINE = N_("Teamleader is in line (%(outcome)s); it shows the invoice %(shown)s.")
SHOWN_PAID = N_("paid")
SHOWN_UNPAID = N_("unpaid")
SYNC_REFUSED = N_("Teamleader refused the payment status: %(error)s")
NOT_SENT = N_("Not sent to Teamleader: %(reason)s")
NOT_CONNECTED = N_("Teamleader is not connected.")
NOT_STRICT = N_(
    "Strict mode is not confirmed in the Teamleader settings, so payments are not written "
    "to Teamleader (edits there would clash with ours)."
)
PAYMENTS_CHANGED = N_("Teamleader's payments changed.")
REGISTERED_AGAIN = N_("Payment registered in Teamleader again.")
REMOVED = N_("Payment removed in Teamleader")

SENTENCES = (
    CREDITED,
    ARCHIVED_BY_CREDIT,
    PAID_WITH_CREDIT,
    OPEN_AGAIN,
    CREDITS_INVOICE,
    CREDIT_NOTE_REMOVED,
    SHOWS_DUE,
    SHOWS,
    CHANGED,
    PDF_FETCHED,
    PDF_REFUSED,
    NO_SUCH_DOCUMENT,
    DOWNLOAD_REFUSED,
    IN_LINE,
    SHOWN_PAID,
    SHOWN_UNPAID,
    SYNC_REFUSED,
    NOT_SENT,
    NOT_CONNECTED,
    NOT_STRICT,
    PAYMENTS_CHANGED,
    REGISTERED_AGAIN,
    REMOVED,
)
