"""The payment provider's part of ``flask check-config``: what in the configuration will
make online payments fail, found before a customer does."""

from __future__ import annotations

from collections.abc import Mapping

from collector.payments import AuthError, ProviderClient, ProviderError, reachability
from collector.payments.models import ProviderProblem


def problems(config: Mapping, provider: ProviderClient | None) -> list[str]:
    """Sentences about what will fail; ``provider`` (None: not called) is asked whether it
    accepts the API key with its cheapest authenticated call."""
    found = []
    warning = reachability.webhook_warning(
        config["PUBLIC_BASE_URL"],
        config["PAYMENT_PROVIDER_URL"],
        config["PAYMENT_PROVIDER_API_KEY"],
    )
    if warning:
        found.append(warning)
    if provider is None:
        return found
    try:
        provider.check_key()
    except AuthError as exc:
        found.append(
            f"{ProviderProblem.KEY_REJECTED.headline} ({exc.detail or exc.title or exc.status}). "
            "Put a valid key in PAYMENT_PROVIDER_API_KEY."
        )
    except ProviderError as exc:
        found.append(f"The payment provider at {provider.base_url} did not answer: {exc}")
    return found
