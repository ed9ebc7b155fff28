"""The payment provider client (Mollie's Payments API v2 shape): records in, typed errors out.

One request per call and no retries: whether to try again is the calling job's decision
(``create_payment`` and ``create_refund`` are only safe to repeat with the same
``idempotency_key``: Mollie then answers the first request's answer again, for a limited
time). Refunds and chargebacks are read into the payment record, pages unwrapped, so a
caller reads one record.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import requests
from marshmallow import Schema

from collector.core.fields import load_with
from collector.core.money import CENT
from collector.payments import provider_schemas as schemas
from collector.payments.provider_errors import (
    MalformedResponse,
    Unavailable,
    error_from_response,
)

PAYMENTS = "payments"
PAYMENT = "payments/{id}"
PAYMENT_REFUNDS = "payments/{id}/refunds"
PAYMENT_CHARGEBACKS = "payments/{id}/chargebacks"

PAYMENT_ID = re.compile(r"tr_[A-Za-z0-9]+")
CURRENCY = re.compile(r"[A-Z]{3}")
# Mollie answers HAL; asking for it keeps error bodies in the documented shape.
ACCEPT = "application/hal+json, application/json;q=0.9"

_NETWORK_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


class ProviderClient:
    """Client for one provider account, authenticated with ``api_key`` (a Bearer token)."""

    def __init__(
        self, session: requests.Session, base_url: str, api_key: str, timeout: float = 15
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session
        self._api_key = api_key
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"ProviderClient({self.base_url!r})"

    def create_payment(
        self,
        amount: Decimal,
        currency: str,
        description: str,
        redirect_url: str,
        webhook_url: str,
        metadata: dict | None = None,
        idempotency_key: str | None = None,
    ) -> dict:
        """Create a payment; its record's ``checkout_url`` is where to send the payer."""
        body = {
            "amount": money(amount, currency),
            "description": description,
            "redirectUrl": redirect_url,
            "webhookUrl": webhook_url,
            "metadata": metadata,
        }
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        payload = self._request("POST", PAYMENTS, self._url(PAYMENTS), body=body, headers=headers)
        return _load(schemas.PaymentSchema, payload, f"POST {PAYMENTS}")

    def get_payment(self, payment_id: str) -> dict:
        """Return a payment with its ``refunds`` and ``chargebacks`` read in."""
        endpoint = PAYMENT.format(id=payment_identifier(payment_id))
        payment = _load(schemas.PaymentSchema, self._get(endpoint), f"GET {endpoint}")
        # Only ask for the lists when the totals say there is something in them.
        if payment["amount_refunded"] > 0:
            payment["refunds"] = self.refunds(payment_id)
        if payment["amount_charged_back"] > 0:
            payment["chargebacks"] = self.chargebacks(payment_id)
        return payment

    def create_refund(
        self,
        payment_id: str,
        amount: Decimal,
        currency: str,
        description: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict:
        """Refund ``amount`` of a paid payment; returns the refund record (``pending`` at
        first: the provider pays it out later)."""
        endpoint = PAYMENT_REFUNDS.format(id=payment_identifier(payment_id))
        body: dict[str, Any] = {"amount": money(amount, currency)}
        if description:
            body["description"] = description
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        payload = self._request("POST", endpoint, self._url(endpoint), body=body, headers=headers)
        return _load(schemas.RefundSchema, payload, f"POST {endpoint}")

    def refunds(self, payment_id: str) -> list[dict]:
        """Return every refund of a payment, oldest first, across pages."""
        endpoint = PAYMENT_REFUNDS.format(id=payment_identifier(payment_id))
        return self._list(endpoint, "refunds", schemas.RefundSchema)

    def chargebacks(self, payment_id: str) -> list[dict]:
        """Return every chargeback of a payment, reversed ones included, across pages."""
        endpoint = PAYMENT_CHARGEBACKS.format(id=payment_identifier(payment_id))
        return self._list(endpoint, "chargebacks", schemas.ChargebackSchema)

    # -- sending --------------------------------------------------------------------------

    def _url(self, endpoint: str) -> str:
        return f"{self.base_url}/{endpoint}"

    def _get(self, endpoint: str, url: str | None = None) -> Any:
        return self._request("GET", endpoint, url or self._url(endpoint))

    def _request(
        self, method: str, endpoint: str, url: str, *, body: Any = None, headers: dict | None = None
    ) -> Any:
        """Send once; return the decoded body of a 2xx answer, else raise the typed error."""
        label = f"{method} {endpoint}"
        all_headers = {
            "Authorization": f"Bearer {self._api_key}",
            "Accept": ACCEPT,
            **(headers or {}),
        }
        try:
            response = self._session.request(
                method, url, json=body, headers=all_headers, timeout=self._timeout
            )
        except _NETWORK_ERRORS as exc:
            # Only the class name: a requests message may quote the URL and its query.
            raise Unavailable(f"{label}: {type(exc).__name__}", endpoint=label) from None
        if not response.ok:
            raise error_from_response(response, label, redact=(self._api_key,))
        return _decode(response, label)

    def _list(self, endpoint: str, key: str, schema: type[Schema]) -> list[dict]:
        """Follow ``_links.next`` and return the records in ``_embedded[key]`` of all pages."""
        label = f"GET {endpoint}"
        records: list[dict] = []
        url: str | None = self._url(endpoint)
        seen: set[str] = set()
        while url is not None:
            seen.add(url)
            page = self._get(endpoint, url)
            embedded = page.get("_embedded") if isinstance(page, dict) else None
            items = embedded.get(key) if isinstance(embedded, dict) else None
            if not isinstance(items, list):
                raise MalformedResponse(f"{label}: no _embedded.{key} list", endpoint=label)
            records.extend(_load(schema, items, label, many=True))
            url = self._next_url(page, label, seen)
        return records

    def _next_url(self, page: dict, label: str, seen: set[str]) -> str | None:
        """The next page's URL, refused unless it is on our API: it gets our Bearer key."""
        links = page.get("_links")
        link = links.get("next") if isinstance(links, dict) else None
        href = link.get("href") if isinstance(link, dict) else None
        if href is None:
            return None
        if not isinstance(href, str) or not href.startswith(f"{self.base_url}/"):
            raise MalformedResponse(f"{label}: next page is off the API", endpoint=label)
        if href in seen:
            raise MalformedResponse(f"{label}: next page repeats a page", endpoint=label)
        return href


def money(amount: Decimal, currency: str) -> dict:
    """``{currency, value}`` as Mollie wants it: a string with exactly two decimals."""
    if isinstance(amount, bool) or not isinstance(amount, Decimal) or not amount.is_finite():
        raise ValueError("amount must be a finite Decimal")
    if amount <= 0:
        raise ValueError("amount must be positive")
    if amount != amount.quantize(CENT):
        # Rounding here would charge a different sum than the caller asked for.
        raise ValueError("amount must not have more than two decimals")
    if not isinstance(currency, str) or not CURRENCY.fullmatch(currency):
        raise ValueError("currency must be an ISO 4217 code such as EUR")
    return {"currency": currency, "value": f"{amount.quantize(CENT):f}"}


def payment_identifier(payment_id: str) -> str:
    """Check a payment id (``tr_…``) before it goes into a URL path."""
    if not isinstance(payment_id, str) or not PAYMENT_ID.fullmatch(payment_id):
        raise ValueError("payment_id must look like tr_<letters and digits>")
    return payment_id


def _decode(response: requests.Response, label: str) -> Any:
    try:
        return json.loads(response.content, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        raise MalformedResponse(
            f"{label}: HTTP {response.status_code} body is not JSON",
            status=response.status_code,
            endpoint=label,
        ) from None


def _load(schema: type[Schema], data: Any, label: str, *, many: bool = False) -> Any:
    """Load ``data`` through ``schema``; a shape we cannot read is a MalformedResponse."""
    return load_with(schema, data, label, MalformedResponse, many=many)
