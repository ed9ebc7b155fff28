"""What paying online writes on a document's timeline and its payments, as msgids
(``runtime.wordings``): stored in English, shown in the reader's language."""

from __future__ import annotations

from collector.documents.models import PaymentKind
from collector.runtime.wordings import N_

STARTED = N_("Online payment %(online)s of %(amount)s started.")
# The provider's statuses that end a checkout unpaid, each its own sentence.
ENDED = {
    "failed": N_("Online payment %(online)s failed."),
    "canceled": N_("Online payment %(online)s canceled."),
    "expired": N_("Online payment %(online)s expired."),
}
REFUNDED = N_("Refunded through the payment provider")
CHARGED_BACK = N_("Charged back by the customer's bank")
OVERPAYMENT_REFUNDED = N_("Overpayment refunded")
CHARGEBACK_REVERSED = N_("Chargeback reversed")
REFUND_CANCELLED = N_("Refund cancelled")
# Why a reversal stopped counting, by its kind.
UNDONE = {PaymentKind.CHARGEBACK: CHARGEBACK_REVERSED, PaymentKind.REFUND: REFUND_CANCELLED}

SENTENCES = (
    STARTED,
    *ENDED.values(),
    REFUNDED,
    CHARGED_BACK,
    OVERPAYMENT_REFUNDED,
    CHARGEBACK_REVERSED,
    REFUND_CANCELLED,
)
