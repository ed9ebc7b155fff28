"""What happens to payments: creation, status changes, refunds, chargebacks.

Pure state operations under ``store.lock``; they return copies, so callers can render or
send webhooks after letting go of the lock. Rendering to Mollie's JSON is in ``resources``.
"""

from __future__ import annotations

import copy
import secrets
import string
from datetime import timedelta
from decimal import Decimal

from . import errors
from .emulator import now
from .state import Store

FINAL = ("paid", "canceled", "expired", "failed")
# Which statuses each status can be reached from. Mollie only cancels what is still open.
REACHABLE_FROM = {
    "pending": ("open",),
    "paid": ("open", "pending", "authorized"),
    "failed": ("open", "pending"),
    "canceled": ("open",),
    "expired": ("open", "pending"),
}
STAMPS = {
    "paid": "paid_at",
    "canceled": "canceled_at",
    "expired": "expired_at",
    "failed": "failed_at",
}
# Refunds in these states give no money back, so they do not count toward amountRefunded.
VOID_REFUNDS = ("failed", "canceled")
ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str) -> str:
    """A Mollie-looking id: ``tr_``/``re_``/``chb_`` and ten random letters and digits."""
    return prefix + "".join(secrets.choice(ALPHABET) for _ in range(10))


def create(store: Store, request: dict, expiry: int) -> dict:
    """Create an open payment (the Idempotency-Key is the caller's: see ``idempotency``)."""
    with store.lock:
        created = now()
        payment = {
            **request,
            "id": new_id("tr_"),
            "status": "open",
            "method": None,
            "created_at": created,
            "expires_at": created + timedelta(minutes=expiry),
            **dict.fromkeys(STAMPS.values()),
            "refunds": [],
            "chargebacks": [],
        }
        store.payments[payment["id"]] = payment
        return copy.deepcopy(payment)


def get(store: Store, payment_id: str) -> dict:
    """A copy of one payment, or a 404."""
    with store.lock:
        return copy.deepcopy(_payment(store, payment_id))


def every(store: Store) -> list[dict]:
    """Copies of all payments, oldest first."""
    with store.lock:
        return [copy.deepcopy(p) for p in store.payments.values()]


def transition(
    store: Store, payment_id: str, status: str, method: str, only_from: tuple[str, ...] = ()
) -> dict | None:
    """Move a payment to ``status``; None when its current status (or ``only_from``, if
    given) does not allow that."""
    with store.lock:
        payment = _payment(store, payment_id)
        allowed = only_from or REACHABLE_FROM[status]
        if payment["status"] not in allowed or payment["status"] not in REACHABLE_FROM[status]:
            return None
        payment["status"] = status
        if status in STAMPS:
            payment[STAMPS[status]] = now()
        if status in ("paid", "failed") and payment["method"] is None:
            payment["method"] = method  # the payer picked one on the checkout
        return copy.deepcopy(payment)


def refund(
    store: Store,
    payment_id: str,
    amount: Decimal | None,
    status: str,
    description: str | None = None,
    currency: str | None = None,
) -> dict:
    """Refund (part of) a paid payment; ``amount`` defaults to all that is left, and when
    ``currency`` is given it must be the payment's."""
    with store.lock:
        payment = _payment(store, payment_id)
        if payment["status"] != "paid":
            raise errors.invalid(None, "Only paid payments can be refunded.")
        if currency is not None and currency != payment["currency"]:
            raise errors.invalid("amount.currency", "The currency must be the payment's.")
        left = remaining(payment)
        amount = left if amount is None else amount
        if amount <= 0 or amount > left:
            raise errors.invalid("amount", f"The amount can be at most {left:.2f}.")
        record = {
            "id": new_id("re_"),
            "payment_id": payment_id,
            "amount": amount,
            "status": status,
            "description": description,
            "created_at": now(),
        }
        payment["refunds"].append(record)
        return dict(record)


def chargeback(
    store: Store, payment_id: str, amount: Decimal | None, code: str, description: str | None
) -> dict:
    """The payer's bank takes money back; ``amount`` defaults to what still stands."""
    with store.lock:
        payment = _payment(store, payment_id)
        if payment["status"] != "paid":
            raise errors.invalid(None, "Only paid payments can be charged back.")
        standing = payment["amount"] - charged_back(payment, reversed_too=False)
        amount = standing if amount is None else amount
        if amount <= 0 or amount > standing:
            raise errors.invalid("amount", f"The amount can be at most {standing:.2f}.")
        record = {
            "id": new_id("chb_"),
            "payment_id": payment_id,
            "amount": amount,
            "created_at": now(),
            "reversed_at": None,
            "reason_code": code,
            "reason_description": description,
        }
        payment["chargebacks"].append(record)
        return dict(record)


def reverse(store: Store, chargeback_id: str) -> dict:
    """The chargeback is undone: the money is the merchant's again."""
    with store.lock:
        for payment in store.payments.values():
            for record in payment["chargebacks"]:
                if record["id"] == chargeback_id:
                    if record["reversed_at"] is not None:
                        raise errors.invalid(None, "The chargeback is already reversed.")
                    record["reversed_at"] = now()
                    return dict(record)
        raise errors.not_found("chargeback", chargeback_id)


def cancel_refund(store: Store, refund_id: str) -> dict:
    """Cancel a refund not paid out yet (Mollie: only while ``queued`` or ``pending``)."""
    with store.lock:
        for payment in store.payments.values():
            for record in payment["refunds"]:
                if record["id"] == refund_id:
                    if record["status"] not in ("queued", "pending"):
                        status = record["status"]
                        raise errors.invalid(None, f"A {status} refund cannot be canceled.")
                    record["status"] = "canceled"
                    return dict(record)
        raise errors.not_found("refund", refund_id)


def refunded(payment: dict, *, void_too: bool = False) -> Decimal:
    """amountRefunded: every refund that is or will be paid out (and failed or cancelled
    ones too when ``void_too``)."""
    return sum(
        (r["amount"] for r in payment["refunds"] if void_too or r["status"] not in VOID_REFUNDS),
        Decimal(0),
    )


def charged_back(payment: dict, *, reversed_too: bool = True) -> Decimal:
    """amountChargedBack; reversed chargebacks count unless ``reversed_too`` is False."""
    return sum(
        (c["amount"] for c in payment["chargebacks"] if reversed_too or not c["reversed_at"]),
        Decimal(0),
    )


def remaining(payment: dict) -> Decimal:
    """amountRemaining: what can still be refunded."""
    left = payment["amount"] - refunded(payment) - charged_back(payment, reversed_too=False)
    return max(left, Decimal(0))


def _payment(store: Store, payment_id: str) -> dict:
    payment = store.payments.get(payment_id)
    if payment is None:
        raise errors.not_found("payment", payment_id)
    return payment
