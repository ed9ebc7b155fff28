"""Marshmallow schemas for the records the payment provider client returns.

Every schema excludes unknown keys: Mollie adds fields without a new API version. Records
are plain dicts with snake_case keys; ``{"currency": "EUR", "value": "10.00"}`` loads as a
``Decimal`` (the payment's currency is lifted to ``currency``), ``*At`` timestamps as aware
UTC datetimes, absent nullable keys as None, absent refunded/charged-back totals as 0.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from marshmallow import EXCLUDE, Schema, fields, post_load, validate

from collector.core.fields import UtcDateTime, nullable

PAYMENT_STATUSES = ("open", "pending", "authorized", "paid", "canceled", "expired", "failed")
REFUND_STATUSES = ("queued", "pending", "processing", "refunded", "failed", "canceled")

Str = fields.String


class Base(Schema):
    """Ignore keys we do not know."""

    class Meta:
        unknown = EXCLUDE


class AmountValue(fields.Field):
    """An amount's ``value``: a decimal string such as ``"10.00"`` → ``Decimal``.

    Mollie sends strings so that money never passes through a float; a JSON number here
    means the body is not what we think it is, so it is refused.
    """

    default_error_messages = {"invalid": "Not a decimal string."}

    def _deserialize(self, value, attr, data, **kwargs) -> Decimal:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            amount = Decimal(value)
        except InvalidOperation:
            raise self.make_error("invalid") from None
        if not amount.is_finite():
            raise self.make_error("invalid")
        return amount


class MoneySchema(Base):
    """``{currency, value}`` with ``value`` as Decimal."""

    currency = Str(required=True, validate=validate.Regexp(r"^[A-Z]{3}$"))
    value = AmountValue(required=True)


class Amount(fields.Nested):
    """An amount object → its value as ``Decimal`` (the currency is the payment's)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(MoneySchema, **kwargs)

    def _deserialize(self, value, attr, data, partial=None, **kwargs) -> Decimal:
        return super()._deserialize(value, attr, data, partial=partial, **kwargs)["value"]


class LinkSchema(Base):
    """A HAL link ``{href, type}``; only the href matters to us."""

    href = Str(required=True)


class PaymentLinksSchema(Base):
    """The links of a payment we use: the hosted checkout, gone once the payment is final."""

    checkout = nullable(fields.Nested, LinkSchema)


class ReasonSchema(Base):
    """A chargeback's reason: ``{code, description}`` (SEPA R-codes such as ``AM04``)."""

    code = nullable(Str)
    description = nullable(Str)


class RefundSchema(Base):
    """A refund: ``{id, amount, status, created_at}``."""

    id = Str(required=True)
    amount = Amount(required=True)
    status = Str(required=True, validate=validate.OneOf(REFUND_STATUSES))
    created_at = UtcDateTime(required=True, data_key="createdAt")


class ChargebackSchema(Base):
    """A chargeback: ``{id, amount, created_at, reversed_at, reason_code, reason_description}``.

    ``reason`` is absent for some payment methods; its parts then load as None.
    """

    id = Str(required=True)
    amount = Amount(required=True)
    created_at = UtcDateTime(required=True, data_key="createdAt")
    reversed_at = nullable(UtcDateTime, data_key="reversedAt")
    reason = nullable(fields.Nested, ReasonSchema)

    @post_load
    def _flatten_reason(self, data, **kwargs):
        reason = data.pop("reason") or {}
        data["reason_code"] = reason.get("code")
        data["reason_description"] = reason.get("description")
        return data


class PaymentSchema(Base):
    """A payment.

    ``{id, status, amount, currency, description, method, created_at, paid_at, canceled_at,
    expired_at, failed_at, amount_refunded, amount_charged_back, metadata, checkout_url,
    refunds, chargebacks}``; ``refunds``/``chargebacks`` are ``[]`` here and filled in by
    ``ProviderClient.get_payment`` when the totals say there are some.
    """

    id = Str(required=True)
    status = Str(required=True, validate=validate.OneOf(PAYMENT_STATUSES))
    amount = fields.Nested(MoneySchema, required=True)
    description = nullable(Str)
    method = nullable(Str)
    created_at = UtcDateTime(required=True, data_key="createdAt")
    paid_at = nullable(UtcDateTime, data_key="paidAt")
    canceled_at = nullable(UtcDateTime, data_key="canceledAt")
    expired_at = nullable(UtcDateTime, data_key="expiredAt")
    failed_at = nullable(UtcDateTime, data_key="failedAt")
    # Mollie leaves these out until something was refunded or charged back.
    amount_refunded = Amount(load_default=None, allow_none=True, data_key="amountRefunded")
    amount_charged_back = Amount(load_default=None, allow_none=True, data_key="amountChargedBack")
    metadata = nullable(fields.Raw)
    links = nullable(fields.Nested, PaymentLinksSchema, data_key="_links")

    @post_load
    def _flatten(self, data, **kwargs):
        money = data.pop("amount")
        data["amount"], data["currency"] = money["value"], money["currency"]
        for key in ("amount_refunded", "amount_charged_back"):
            if data[key] is None:
                data[key] = Decimal("0.00")
        checkout = (data.pop("links") or {}).get("checkout") or {}
        data["checkout_url"] = checkout.get("href")
        data["refunds"], data["chargebacks"] = [], []
        return data
