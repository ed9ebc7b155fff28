"""API errors in Mollie's shape, and the request validators that raise them.

Mollie answers every error as ``application/hal+json`` ``{status, title, detail, field?,
_links: {documentation}}``; ``field`` names the offending input (``amount.value``) on a 422.
"""

from __future__ import annotations

import ipaddress
import json
import re
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

DOCUMENTATION = "https://docs.mollie.com/overview/handling-errors"
TITLES = {
    400: "Bad Request",
    401: "Unauthorized Request",
    404: "Not Found",
    405: "Method Not Allowed",
    410: "Gone",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
AMOUNT_VALUE = re.compile(r"\d+\.\d{2}")
CURRENCY = re.compile(r"[A-Z]{3}")
MAX_DESCRIPTION = 255
MAX_METADATA_BYTES = 1024  # Mollie's limit on the JSON-encoded metadata
# Mollie's words (a 422 on ``webhookUrl``, test keys included).
UNREACHABLE_WEBHOOK = (
    "The webhook URL is invalid because it is unreachable from Mollie's point of view."
)
LOCAL_SUFFIXES = (
    ".localhost",
    ".local",
    ".localdomain",
    ".internal",
    ".lan",
    ".home",
    ".home.arpa",
    ".test",
    ".example",
    ".invalid",
)


class ApiError(Exception):
    """An error answer: HTTP status, Mollie's title, a detail and maybe a field."""

    def __init__(
        self,
        status: int,
        detail: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.field = field
        self.headers = headers or {}

    def body(self) -> dict:
        """The hal+json body."""
        body: dict = {
            "status": self.status,
            "title": TITLES.get(self.status, "Error"),
            "detail": self.detail,
        }
        if self.field:
            body["field"] = self.field
        body["_links"] = {"documentation": {"href": DOCUMENTATION, "type": "text/html"}}
        return body


def invalid(field: str | None, detail: str) -> ApiError:
    """A 422 about one input."""
    return ApiError(422, detail, field)


def not_found(kind: str, ident: str) -> ApiError:
    """A 404 worded like Mollie's."""
    return ApiError(404, f"No {kind} exists with token {ident}.")


def payment_request(body: dict, allow_local_webhooks: bool = False) -> dict:
    """Check a create-payment body; return ``{amount, currency, description, redirect_url,
    webhook_url, metadata}`` or raise the 422 Mollie would — also for a webhook URL it
    could not reach, unless ``allow_local_webhooks``."""
    amount, currency = amount_object(body.get("amount"))
    webhook = url(body.get("webhookUrl"), "webhookUrl", "webhook URL", False)
    if webhook is not None and not allow_local_webhooks and not reachable(webhook):
        raise invalid("webhookUrl", UNREACHABLE_WEBHOOK)
    return {
        "amount": amount,
        "currency": currency,
        "description": description(body.get("description")),
        "redirect_url": url(body.get("redirectUrl"), "redirectUrl", "redirect URL", True),
        "webhook_url": webhook,
        "metadata": metadata(body.get("metadata")),
    }


def reachable(value: str) -> bool:
    """Whether Mollie could call ``value`` from the internet: not a loopback, private,
    link-local or otherwise non-global address, not ``localhost``, a name without a dot
    or a local or reserved suffix. (Mollie also resolves names; the emulator does not.)"""
    host = (urlsplit(value).hostname or "").rstrip(".").lower()
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        pass
    if host == "localhost" or "." not in host:
        return False
    return not host.endswith(LOCAL_SUFFIXES)


def refund_request(body: dict) -> dict:
    """Check a create-refund body; return ``{amount, currency, description}`` or raise the
    422 Mollie would (the amount is required here: the control API's refund is not)."""
    amount, currency = amount_object(body.get("amount"))
    text = body.get("description")
    if text is not None and (not isinstance(text, str) or len(text) > MAX_DESCRIPTION):
        raise invalid("description", "The description is invalid.")
    return {"amount": amount, "currency": currency, "description": text}


def amount_object(value: object) -> tuple[Decimal, str]:
    """``{currency, value}`` with value a string of exactly two decimals, above zero."""
    if not isinstance(value, dict):
        raise invalid("amount", "The amount is required and must be an object.")
    currency = value.get("currency")
    if not isinstance(currency, str) or not CURRENCY.fullmatch(currency):
        raise invalid("amount.currency", "The currency is invalid.")
    raw = value.get("value")
    if not isinstance(raw, str) or not AMOUNT_VALUE.fullmatch(raw):
        raise invalid("amount.value", "The amount contains an invalid value.")
    amount = Decimal(raw)
    if amount <= 0:
        raise invalid("amount.value", "The amount must be higher than zero.")
    return amount, currency


def description(value: object) -> str:
    """A non-empty string of at most 255 characters."""
    if not isinstance(value, str) or not value.strip():
        raise invalid("description", "The description is required.")
    if len(value) > MAX_DESCRIPTION:
        raise invalid("description", "The description is too long.")
    return value


def url(value: object, field: str, label: str, required: bool) -> str | None:
    """An absolute http(s) URL with a host."""
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise invalid(field, f"The {label} is required.")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid(field, f"The {label} is invalid.")
    return value


def metadata(value: object) -> object:
    """Any JSON value, up to 1 KB once encoded."""
    if len(json.dumps(value).encode()) > MAX_METADATA_BYTES:
        raise invalid("metadata", "The metadata is too large.")
    return value


def control_amount(value: object, field: str = "amount") -> Decimal:
    """An amount in a control request: ``"5.00"`` or a JSON number, above zero, cents at most."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise invalid(field, f'{field} must be a decimal string such as "5.00"')
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise invalid(field, f'{field} must be a decimal string such as "5.00"') from None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise invalid(field, f"{field} must be above zero with at most two decimals")
    return amount


def choice(value: object, field: str, allowed: tuple[str, ...]) -> str:
    """One of ``allowed``."""
    if value not in allowed:
        raise invalid(field, f"{field} must be one of: {', '.join(allowed)}")
    return value  # type: ignore[return-value]


def optional_string(body: dict, key: str, default: str | None = None) -> str | None:
    """``body[key]`` if a non-empty string, ``default`` if absent or null."""
    value = body.get(key)
    if value is None:
        return default
    if not isinstance(value, str) or not value:
        raise invalid(key, f"{key} must be a non-empty string")
    return value


def positive_int(value: object, field: str, maximum: int) -> int:
    """An integer from 1 to ``maximum``."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise invalid(field, f"{field} must be an integer from 1 to {maximum}")
    return value
