"""The accounts models: users, their one-time password links, API keys, the audit log,
the company, the creditor."""

from collector.accounts.models.api_key import ApiKey
from collector.accounts.models.audit import AuditEvent
from collector.accounts.models.company import Company
from collector.accounts.models.creditor import Creditor
from collector.accounts.models.password_link import LinkPurpose, PasswordLink
from collector.accounts.models.user import Role, User

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Company",
    "Creditor",
    "LinkPurpose",
    "PasswordLink",
    "Role",
    "User",
]
