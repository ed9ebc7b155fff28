"""Whether the provider can reach an address of ours: Mollie refuses a ``webhookUrl`` it
cannot call from the internet (422 "The webhook URL is invalid because it is unreachable
from Mollie's point of view"), test keys included.

Judged from the URL alone, without DNS (a name may resolve differently inside and out):
loopback, private, link-local and other non-global addresses, ``localhost``, names
without a dot and the reserved or in-house suffixes below are not reachable. A public
name that points nowhere passes; the provider's 422 then says so at checkout.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from flask_babel import gettext as _

# RFC 6761/6762/8375 names, and the suffixes in-house networks commonly use.
LOCAL_SUFFIXES = (
    ".localhost",
    ".local",
    ".localdomain",
    ".internal",
    ".intranet",
    ".lan",
    ".home",
    ".home.arpa",
    ".corp",
    ".test",
    ".example",
    ".invalid",
)


def publicly_reachable(url: str | None) -> bool:
    """Whether ``url`` names an http(s) host the internet could reach."""
    try:
        parts = urlsplit(url or "")
        host = (parts.hostname or "").rstrip(".").lower()
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        pass
    if host == "localhost" or "." not in host:
        return False
    return not host.endswith(LOCAL_SUFFIXES)


def webhook_warning(public_base_url: str, provider_url: str, api_key: str) -> str | None:
    """Why the provider will refuse our webhook address, or None: only said when a real
    provider (a public API URL, not the sandbox on this machine) is configured. In the
    reader's language on a page, in English on the command line."""
    if not api_key or not publicly_reachable(provider_url):
        return None
    if publicly_reachable(public_base_url):
        return None
    return _(
        "%(setting)s (%(address)s) is not reachable from the internet, but the payment "
        "provider at %(provider)s must call this service's webhook there: it refuses every "
        "payment whose webhook address it cannot reach, so “Pay online” fails for "
        "customers. Set %(setting)s to the https address at which the internet reaches "
        "collector.",
        setting="PUBLIC_BASE_URL",
        address=public_base_url,
        provider=provider_url,
    )
