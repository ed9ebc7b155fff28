"""An admin gives a document's overpayment back through the payment provider."""

from __future__ import annotations

from collector.core.errors import Conflict
from collector.documents import changes
from collector.documents.models import Invoice
from collector.payments import ProviderClient, checkout


def refund_overpayment(invoice_id: int, provider: ProviderClient | None, actor: str) -> Invoice:
    """An admin gives the document's overpayment back through the payment provider.
    Commits; the provider is only called under the document's lock."""
    with changes.changing(invoice_id) as invoice:
        if provider is None:
            raise Conflict("No payment provider is configured: refund it by other means.")
        checkout.refund_overpayment(provider, invoice, actor=actor)
    return invoice
