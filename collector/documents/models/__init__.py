"""TODO models"""

from collector.documents.models.customer import Customer, CustomerKind
from collector.documents.models.invoice import DocumentKind, Invoice, InvoiceState
from collector.documents.models.invoice_event import InvoiceEvent
from collector.documents.models.overpayment import Overpayment, OverpaymentStatus
from collector.documents.models.payment import Payment, PaymentKind, PaymentSource
from collector.documents.models.profile import Profile
from collector.documents.models.status_callback import (
    CallbackDelivery,
    CallbackEndpoint,
    CallbackStatus,
)

__all__ = [
    "CallbackDelivery",
    "CallbackEndpoint",
    "CallbackStatus",
    "Customer",
    "CustomerKind",
    "DocumentKind",
    "Invoice",
    "InvoiceEvent",
    "InvoiceState",
    "Overpayment",
    "OverpaymentStatus",
    "Payment",
    "PaymentKind",
    "PaymentSource",
    "Profile",
]
