"""The accounts models: users, API keys, the audit log, the company, the creditor."""

from collector.accounts.models.api_key import ApiKey
from collector.accounts.models.audit import AuditEvent
from collector.accounts.models.company import Company
from collector.accounts.models.creditor import Creditor
from collector.accounts.models.user import Role, User

__all__ = ["ApiKey", "AuditEvent", "Company", "Creditor", "Role", "User"]
