"""The payments domain's rq job: act on what the payment provider's webhook said.

Thin: it builds the provider's client, calls one operation and records the outcome on
its JobRun. Payments have no periodic work.
"""

from __future__ import annotations

from flask import current_app

from collector.payments import checkout
from collector.payments import setup as payments_setup
from collector.runtime.queue import Periodic, Progress, tracked


@tracked
def handle_provider_webhook(provider_id: str, *, progress: Progress) -> str:
    """The provider says a payment changed: fetch it and apply what the fetch says."""
    if not isinstance(provider_id, str):
        raise ValueError("give the provider's payment id")
    provider = payments_setup.provider(current_app)
    if provider is None:
        return "No payment provider is configured; ignored."
    online = checkout.refresh(provider, provider_id)
    if online is None:
        return f"{provider_id[:64]} is not a payment of ours; ignored."
    return f"{online.provider_id} is {online.status}; the document is {online.invoice.state.value}."


PERIODIC: tuple[Periodic, ...] = ()
