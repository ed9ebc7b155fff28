"""The document tables: invoices and credit notes, their customers and payment
profiles, the payment ledger, the timeline of events, overpayments, and the outbound
status callbacks."""

from collector.documents.models.callback_delivery import CallbackDelivery, CallbackStatus
from collector.documents.models.callback_endpoint import CallbackEndpoint
from collector.documents.models.customer import Customer, CustomerKind
from collector.documents.models.document_mail import (
    DocumentMail,
    DocumentMailKind,
    DocumentMailStatus,
)
from collector.documents.models.invoice import DocumentKind, Invoice, InvoiceState
from collector.documents.models.invoice_event import InvoiceEvent
from collector.documents.models.overpayment import Overpayment, OverpaymentStatus
from collector.documents.models.payment import Payment, PaymentKind, PaymentSource
from collector.documents.models.profile import Profile

__all__ = [
    "DocumentMail",
    "DocumentMailKind",
    "DocumentMailStatus",
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
