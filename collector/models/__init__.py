"""The data model, one model per module. Importing this package registers them all."""

from collector.models.api_key import ApiKey
from collector.models.bank_file import (
    BankFile,
    BankFileKind,
    BankTransaction,
    BankTransactionKind,
    BankTransactionStatus,
)
from collector.models.collection_run import (
    Collection,
    CollectionRun,
    CollectionRunStatus,
    CollectionStatus,
)
from collector.models.company import Company
from collector.models.creditor import Creditor
from collector.models.customer import Customer, CustomerKind
from collector.models.document_import import DocumentImport, ImportSource, ImportStatus
from collector.models.document_mail import DocumentMail, DocumentMailKind, DocumentMailStatus
from collector.models.exact_booking import (
    BookingStatus,
    ExactAccount,
    ExactBooking,
    ExactSyncRun,
    SyncTrigger,
)
from collector.models.exact_connection import EntryNumbering, ExactConnection
from collector.models.invoice import DocumentKind, Invoice, InvoiceState
from collector.models.invoice_event import InvoiceEvent
from collector.models.job_run import JobRun, JobStatus
from collector.models.mail_message import MailMessage, MailStatus
from collector.models.mandate import Mandate, MandateScheme, MandateStatus
from collector.models.mandate_upload import MandateUpload, MandateUploadStatus
from collector.models.online_payment import OnlinePayment
from collector.models.overpayment import Overpayment, OverpaymentStatus
from collector.models.payment import Payment, PaymentKind, PaymentSource
from collector.models.profile import Profile
from collector.models.status_callback import CallbackDelivery, CallbackEndpoint, CallbackStatus
from collector.models.teamleader_connection import ConnectionStatus, TeamleaderConnection
from collector.models.teamleader_sync import NEEDS_A_PERSON, SyncStatus, TeamleaderSync
from collector.models.user import Role, User
from collector.models.webhook_delivery import DeliveryStatus, WebhookDelivery

__all__ = [
    "NEEDS_A_PERSON",
    "ApiKey",
    "BookingStatus",
    "BankFile",
    "BankFileKind",
    "BankTransaction",
    "BankTransactionKind",
    "BankTransactionStatus",
    "CallbackDelivery",
    "CallbackEndpoint",
    "CallbackStatus",
    "Collection",
    "CollectionRun",
    "CollectionRunStatus",
    "CollectionStatus",
    "Company",
    "ConnectionStatus",
    "Creditor",
    "Customer",
    "CustomerKind",
    "DeliveryStatus",
    "DocumentImport",
    "DocumentKind",
    "DocumentMail",
    "DocumentMailKind",
    "DocumentMailStatus",
    "EntryNumbering",
    "ExactAccount",
    "ExactBooking",
    "ExactConnection",
    "ExactSyncRun",
    "ImportSource",
    "ImportStatus",
    "Invoice",
    "InvoiceEvent",
    "InvoiceState",
    "JobRun",
    "JobStatus",
    "MailMessage",
    "MailStatus",
    "Mandate",
    "MandateScheme",
    "MandateStatus",
    "MandateUpload",
    "MandateUploadStatus",
    "OnlinePayment",
    "Overpayment",
    "OverpaymentStatus",
    "Payment",
    "PaymentKind",
    "PaymentSource",
    "Profile",
    "Role",
    "SyncStatus",
    "SyncTrigger",
    "TeamleaderConnection",
    "TeamleaderSync",
    "User",
    "WebhookDelivery",
]
