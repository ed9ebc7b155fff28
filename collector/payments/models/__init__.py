"""The payments models: checkouts started at the payment provider, the provider's
webhook calls as they arrived, and the state of the connection to it."""

from collector.payments.models.online_payment import OnlinePayment
from collector.payments.models.online_payment_document import OnlinePaymentDocument
from collector.payments.models.provider_notification import (
    NotificationStatus,
    ProviderNotification,
)
from collector.payments.models.provider_status import ProviderProblem, ProviderStatus

__all__ = [
    "NotificationStatus",
    "OnlinePayment",
    "OnlinePaymentDocument",
    "ProviderNotification",
    "ProviderProblem",
    "ProviderStatus",
]
