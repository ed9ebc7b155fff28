"""TODO models"""

from collector.payments.models.online_payment import OnlinePayment

__all__ = ["OnlinePayment"]
