"""The schedule's check of the connection to the payment provider: the cheapest
authenticated call every few minutes, so a refused API key is seen (and told in the
admins' digest, once per outage) before a customer meets it, and cleared once the key
works again."""

from __future__ import annotations

from flask import current_app

from collector.payments import ProviderError, provider_status
from collector.payments import setup as payments_setup
from collector.runtime.queue import Periodic, Progress, tracked

CHECK_EVERY = 5 * 60  # seconds


@tracked
def check_provider(*, progress: Progress) -> str:
    """Check that the provider accepts the API key (a new problem goes to the digest)."""
    provider = payments_setup.provider(current_app)
    if provider is None:
        return "No payment provider is configured."
    try:
        row = provider_status.check(provider)
        outcome = row.problem.headline if row.problem else "The key works."
    except ProviderError as exc:
        # Away or rate limited: the state stays as the last answer left it.
        outcome = f"The payment provider did not answer: {exc}"
    return outcome


PERIODIC: tuple[Periodic, ...] = (Periodic(check_provider, "default", interval=CHECK_EVERY),)
