"""The payments models: checkouts started at the payment provider."""

from collector.payments.models.online_payment import OnlinePayment

__all__ = ["OnlinePayment"]
