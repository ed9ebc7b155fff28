"""The data model, one model per module. Importing this package registers them all."""

from collector.models.api_key import ApiKey
from collector.models.customer import Customer, CustomerKind
from collector.models.invoice import DocumentKind, Invoice, InvoiceState
from collector.models.invoice_event import InvoiceEvent
from collector.models.job_run import JobRun, JobStatus
from collector.models.profile import Profile
from collector.models.teamleader_connection import ConnectionStatus, TeamleaderConnection
from collector.models.user import Role, User

__all__ = [
    "ApiKey",
    "ConnectionStatus",
    "Customer",
    "CustomerKind",
    "DocumentKind",
    "Invoice",
    "InvoiceEvent",
    "InvoiceState",
    "JobRun",
    "JobStatus",
    "Profile",
    "Role",
    "TeamleaderConnection",
    "User",
]
