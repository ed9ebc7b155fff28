"""The payments models: checkouts started at the payment provider, and the provider's
webhook calls as they arrived."""

from collector.payments.models.online_payment import OnlinePayment
from collector.payments.models.provider_notification import (
    NotificationStatus,
    ProviderNotification,
)

__all__ = ["NotificationStatus", "OnlinePayment", "ProviderNotification"]
