"""The payment provider client (Mollie's Payments API v2 shape): records in, typed errors out.

Sent through the shared transport (``collector.core.http``). Reads (GET, idempotent) are
tried again a few times at once after a 5xx, a timeout or a 429 (honouring ``Retry-After``
while it is short), then the error is raised for the calling job to try later. Writes are
never repeated here: ``create_payment`` and ``create_refund`` are only safe to repeat with
the same ``idempotency_key``, which goes out as the ``Idempotency-Key`` header (Mollie then
answers the first request's answer again, for a limited time) — the caller repeats them.
Refunds and chargebacks are read into the payment record, pages unwrapped, so a caller reads
one record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import requests
from marshmallow import Schema

from collector.core import http
from collector.core.money import CENT
from collector.payments import provider_schemas as schemas
from collector.payments.provider_errors import MalformedResponse, RateLimited, error_types

PAYMENTS = "payments"
PAYMENT = "payments/{id}"
PAYMENT_REFUNDS = "payments/{id}/refunds"
PAYMENT_CHARGEBACKS = "payments/{id}/chargebacks"

PAYMENT_ID = re.compile(r"tr_[A-Za-z0-9]+")
CURRENCY = re.compile(r"[A-Z]{3}")
# Mollie answers HAL; asking for it keeps error bodies in the documented shape.
ACCEPT = "application/hal+json, application/json;q=0.9"
IDEMPOTENCY_HEADER = "Idempotency-Key"
# A read that failed is sent again this many times at once; then the caller's job waits.
READ_RETRIES = 2
# A 429 asking for a longer wait than this is not waited out inside a worker's call.
MAX_RETRY_AFTER = 5.0


@dataclass(frozen=True)
class PaymentRequest:
    """A payment to create: what the payer pays and for what, the page the provider sends
    them back to, and the URL it tells us about changes at; ``metadata`` comes back on the
    record."""

    amount: Decimal
    currency: str
    description: str
    redirect_url: str
    webhook_url: str
    metadata: dict | None = None

    def body(self) -> dict:
        """The request body; ValueError on an amount or a currency the provider would refuse."""
        return {
            "amount": money(self.amount, self.currency),
            "description": self.description,
            "redirectUrl": self.redirect_url,
            "webhookUrl": self.webhook_url,
            "metadata": self.metadata,
        }


class ProviderClient:
    """Client for one provider account, authenticated with ``api_key`` (a Bearer token).

    ``calls`` counts the requests sent per endpoint.
    """

    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        api_key: str,
        timeout: float | tuple[float, float] = 15,
        **options: Any,
    ) -> None:
        """``options`` go to the transports (``collector.core.http.Transport``), e.g.
        ``sleep``, ``rng``; ``read_retries`` (default ``READ_RETRIES``) bounds the quick
        retries of a read, ``max_retries`` (default 0) those of a write with a key."""
        read_retries = options.pop("read_retries", READ_RETRIES)
        write_retries = options.pop("max_retries", 0)
        settings = {
            # Should the body ever echo the key, it is blanked out of the error.
            "errors": error_types(redact=(api_key,)),
            "headers": {"Authorization": f"Bearer {api_key}", "Accept": ACCEPT},
            "timeout": timeout,
            "idempotency_header": IDEMPOTENCY_HEADER,
            "service": "provider",
            **options,
        }
        self._http = http.Transport(session, base_url, max_retries=write_retries, **settings)
        self._reads = _ReadTransport(session, base_url, max_retries=read_retries, **settings)
        self._reads.calls = self._http.calls  # one count per client, reads and writes
        self.base_url = self._http.base_url
        self.calls = self._http.calls

    def __repr__(self) -> str:
        return f"ProviderClient({self.base_url!r})"

    def create_payment(self, request: PaymentRequest, idempotency_key: str | None = None) -> dict:
        """Create a payment; its record's ``checkout_url`` is where to send the payer."""
        body = request.body()
        payload = self._send("POST", PAYMENTS, body=body, idempotency_key=idempotency_key)
        return self._http.load(schemas.PaymentSchema, payload, f"POST {PAYMENTS}")

    def get_payment(
        self, payment_id: str, *, refunds: bool = False, chargebacks: bool = False
    ) -> dict:
        """Return a payment with its ``refunds`` and ``chargebacks`` read in: each list when
        the payment's total of it is above zero, or when the caller asks for it."""
        endpoint = PAYMENT.format(id=payment_identifier(payment_id))
        payload = self._send("GET", endpoint)
        payment = self._http.load(schemas.PaymentSchema, payload, f"GET {endpoint}")
        # The totals spare a call per list while nothing was ever refunded or charged
        # back. Mollie does not document whether they drop when a chargeback is reversed
        # or a refund cancelled, so a caller that knows of one asks for the list anyway.
        if refunds or payment["amount_refunded"] > 0:
            payment["refunds"] = self.refunds(payment_id)
        if chargebacks or payment["amount_charged_back"] > 0:
            payment["chargebacks"] = self.chargebacks(payment_id)
        return payment

    def check_key(self) -> None:
        """Make the cheapest authenticated call (one payment of the list); raises
        ``AuthError`` when the API key is refused."""
        self._send("GET", PAYMENTS, params={"limit": "1"})

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
        payload = self._send("POST", endpoint, body=body, idempotency_key=idempotency_key)
        return self._http.load(schemas.RefundSchema, payload, f"POST {endpoint}")

    def refunds(self, payment_id: str) -> list[dict]:
        """Return every refund of a payment, oldest first, across pages."""
        endpoint = PAYMENT_REFUNDS.format(id=payment_identifier(payment_id))
        return self._list(endpoint, "refunds", schemas.RefundSchema)

    def chargebacks(self, payment_id: str) -> list[dict]:
        """Return every chargeback of a payment, reversed ones included, across pages."""
        endpoint = PAYMENT_CHARGEBACKS.format(id=payment_identifier(payment_id))
        return self._list(endpoint, "chargebacks", schemas.ChargebackSchema)

    # -- sending --------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        endpoint: str,
        url: str | None = None,
        *,
        body: Any = None,
        params: dict[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Send one call; return the decoded body of a 2xx answer, else raise the typed error.
        Errors and ``calls`` name it ``<method> <endpoint>``."""
        call = http.Call(
            method,
            f"{method} {endpoint}",
            url or self._http.url(endpoint),
            params=params,
            body=body,
            idempotency_key=idempotency_key or None,
        )
        transport = self._reads if call.is_idempotent() else self._http
        return transport.send(call)

    def _list(self, endpoint: str, key: str, schema: type[Schema]) -> list[dict]:
        """Follow ``_links.next`` and return the records in ``_embedded[key]`` of all pages."""
        label = f"GET {endpoint}"
        records: list[dict] = []
        url: str | None = self._http.url(endpoint)
        seen: set[str] = set()
        while url is not None:
            seen.add(url)
            page = self._send("GET", endpoint, url)
            embedded = page.get("_embedded") if isinstance(page, dict) else None
            items = embedded.get(key) if isinstance(embedded, dict) else None
            if not isinstance(items, list):
                raise MalformedResponse(f"{label}: no _embedded.{key} list", endpoint=label)
            records.extend(self._http.load(schema, items, label, many=True))
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


class _ReadTransport(http.Transport):
    """The transport of reads: a 429 is waited out ``max_retries`` times, as long as the
    provider's ``Retry-After`` asks (or a backoff when it says nothing), unless that is
    longer than ``MAX_RETRY_AFTER`` — then the job, not the worker, waits."""

    def rate_limit_wait(self, error: RateLimited, waits: int) -> float | None:
        if waits >= self.max_retries:
            return None
        wait = getattr(error, "retry_after", None)
        if wait is None:
            return http.backoff(waits, self._rng)
        return wait if wait <= MAX_RETRY_AFTER else None


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
