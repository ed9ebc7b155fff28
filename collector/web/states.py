"""The words a state badge shows, in the reader's language.

Rows keep their states as machine values (``BOOKED``, ``failed``, Mollie's ``canceled``);
``status_badge`` keeps the value for the badge's CSS class and shows the label from here.
Labels are keyed by the raw value, case and all: the values of the enums that share one
(``failed``, ``sent``, ``pending``) mean the same to a reader, while an invoice's
``EXPIRED`` (overdue) and a payment link's ``expired`` do not, and differ in case. A value
not listed here is shown as it is.
"""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

LABELS: dict[str, LazyString] = {
    # Invoices and credit notes (documents.InvoiceState: Twikey's states).
    "BOOKED": _l("open"),
    "PENDING": _l("being collected"),
    "PAID": _l("paid"),
    "EXPIRED": _l("overdue"),
    "ARCHIVED": _l("archived"),
    "partly paid": _l("partly paid"),
    "to hand off": _l("to hand off"),
    # Jobs, imports, mandate uploads.
    "queued": _l("queued"),
    "started": _l("started"),
    "running": _l("running"),
    "finished": _l("finished"),
    "failed": _l("failed"),
    "interrupted": _l("interrupted"),
    "deleted": _l("deleted"),
    "checking": _l("checking"),
    "invalid": _l("invalid"),
    "ready": _l("ready"),
    "committing": _l("saving"),
    "committed": _l("saved"),
    "error": _l("error"),
    "warning": _l("warning"),
    # Emails: the outbox (mail.MailStatus) and the letters to customers (DocumentMailStatus).
    "waiting": _l("waiting"),
    "sending": _l("sending"),
    "sent": _l("sent"),
    "stored": _l("stored"),
    "uncertain": _l("uncertain"),
    "cancelled": _l("cancelled"),
    "held": _l("held"),
    # Teamleader's payment status (web.invoice_detail.SYNC_BADGES) and status callbacks.
    "synced": _l("synced"),
    "retrying": _l("retrying"),
    "refused": _l("refused"),
    "not sent": _l("not sent"),
    "pending": _l("pending"),
    "delivered": _l("delivered"),
    "active": _l("active"),
    "disabled": _l("disabled"),
    # Webhook deliveries (Teamleader's, the payment provider's).
    "received": _l("received"),
    "processed": _l("processed"),
    "ignored": _l("ignored"),
    # Direct debit: mandates, collection runs, collections, bank transactions.
    "revoked": _l("revoked"),
    "lapsed": _l("lapsed"),
    "created": _l("created"),
    "settled": _l("settled"),
    "rejected": _l("rejected"),
    "returned": _l("returned"),
    "matched": _l("matched"),
    "unmatched": _l("unmatched"),
    "dismissed": _l("dismissed"),
    "double_payment": _l("possible double payment"),
    # Bookings in Exact Online.
    "booked": _l("booked"),
    # Overpayments; online payments (the provider's words: Mollie's "canceled").
    "open": _l("open"),
    "refunded": _l("refunded"),
    "kept": _l("kept"),
    "cleared": _l("cleared"),
    "canceled": _l("cancelled"),
    "authorized": _l("authorised"),
    "expired": _l("expired"),
    "paid": _l("paid"),
}


def label(value: str) -> str:
    """The reader's word for the state ``value``; the value itself when unknown."""
    known = LABELS.get(value)
    return str(known) if known is not None else value
