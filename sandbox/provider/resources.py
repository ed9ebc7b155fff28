"""Payments, refunds and chargebacks rendered the way Mollie's API v2 returns them.

API links (``self``, ``next``) point at the host the caller used; links a browser follows
(``checkout``, ``dashboard``) use ``PUBLIC_URL`` when set, so a demo behind another name works.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask import Response, current_app, jsonify, request, url_for

from . import payments
from .emulator import current

HAL = "application/hal+json"


def hal(body: dict, status: int = 200) -> Response:
    """A JSON answer with Mollie's content type."""
    response = jsonify(body)
    response.status_code = status
    response.mimetype = HAL
    return response


def money(amount: Decimal, currency: str) -> dict:
    """``{value: "10.00", currency}``: strings, never numbers."""
    return {"value": f"{amount:.2f}", "currency": currency}


def stamp(when: datetime | None) -> str | None:
    """``2024-03-20T09:13:37+00:00``."""
    return when.isoformat(timespec="seconds") if when else None


def link(href: str, kind: str = HAL) -> dict:
    return {"href": href, "type": kind}


def browser_url(endpoint: str, **values: object) -> str:
    """An URL for a person's browser: under ``PUBLIC_URL`` if configured."""
    public = current_app.config.get("PUBLIC_URL")
    if not public:
        return url_for(endpoint, _external=True, **values)
    path = url_for(endpoint, **values)[len(request.script_root) :]
    return public.rstrip("/") + path


def payment(record: dict, mode: str) -> dict:
    """A payment resource."""
    status, currency, ident = record["status"], record["currency"], record["id"]
    body: dict = {
        "resource": "payment",
        "id": ident,
        "mode": mode,
        "createdAt": stamp(record["created_at"]),
        "amount": money(record["amount"], currency),
        "description": record["description"],
        "method": record["method"],
        "metadata": record["metadata"],
        "status": status,
        "isCancelable": status == "open",
        "profileId": "pfl_sandbox",
        "sequenceType": "oneoff",
        "redirectUrl": record["redirect_url"],
        "webhookUrl": record["webhook_url"],
    }
    if status in ("open", "pending"):
        body["expiresAt"] = stamp(record["expires_at"])
    for key, field in (
        ("paidAt", "paid_at"),
        ("canceledAt", "canceled_at"),
        ("expiredAt", "expired_at"),
        ("failedAt", "failed_at"),
    ):
        if record[field]:
            body[key] = stamp(record[field])
    settings = current().settings
    if status == "paid":
        refunded = payments.refunded(record, void_too=bool(settings["CANCELED_REFUNDS_IN_TOTAL"]))
        body["amountRefunded"] = money(refunded, currency)
        body["amountRemaining"] = money(payments.remaining(record), currency)
    reversed_too = bool(settings["REVERSED_CHARGEBACKS_IN_TOTAL"])
    charged_back = payments.charged_back(record, reversed_too=reversed_too)
    # Mollie leaves the total out until something was charged back.
    if record["chargebacks"] and (charged_back > 0 or reversed_too):
        body["amountChargedBack"] = money(charged_back, currency)
    body["_links"] = _payment_links(record)
    return body


def _payment_links(record: dict) -> dict:
    ident = record["id"]
    links = {"self": link(url_for("api.payment", payment_id=ident, _external=True))}
    if record["status"] == "open":
        # Mollie drops the checkout link once the payer can no longer pay.
        links["checkout"] = link(browser_url("checkout.page", payment_id=ident), "text/html")
    links["dashboard"] = link(browser_url("control.payment", payment_id=ident), "text/html")
    if record["refunds"]:
        links["refunds"] = link(url_for("api.refunds", payment_id=ident, _external=True))
    if record["chargebacks"]:
        links["chargebacks"] = link(url_for("api.chargebacks", payment_id=ident, _external=True))
    return links


def refund(record: dict, currency: str) -> dict:
    """A refund resource."""
    return {
        "resource": "refund",
        "id": record["id"],
        "amount": money(record["amount"], currency),
        "status": record["status"],
        "description": record.get("description") or "",
        "createdAt": stamp(record["created_at"]),
        "paymentId": record["payment_id"],
    }


def chargeback(record: dict, currency: str) -> dict:
    """A chargeback resource; ``reason`` is Mollie's ``{code, description}``."""
    return {
        "resource": "chargeback",
        "id": record["id"],
        "amount": money(record["amount"], currency),
        "createdAt": stamp(record["created_at"]),
        "reversedAt": stamp(record["reversed_at"]),
        "reason": {"code": record["reason_code"], "description": record["reason_description"]},
        "paymentId": record["payment_id"],
    }


def page(items: list[dict], key: str, endpoint: str, payment_id: str | None, next_from: str | None):
    """A list page: ``{count, _embedded: {key: items}, _links: {self, previous, next}}``."""
    limit = request.args.get("limit")
    ids = {"payment_id": payment_id} if payment_id else {}
    here = url_for(endpoint, _external=True, **ids, **request.args)
    following = None
    if next_from is not None:
        args = {"from": next_from, **({"limit": limit} if limit else {})}
        following = link(url_for(endpoint, _external=True, **ids, **args))
    return {
        "count": len(items),
        "_embedded": {key: items},
        "_links": {"self": link(here), "previous": None, "next": following},
    }
