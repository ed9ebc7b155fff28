"""The accounts models: users, API keys, the company, the creditor."""

from collector.accounts.models.api_key import ApiKey
from collector.accounts.models.company import Company
from collector.accounts.models.creditor import Creditor
from collector.accounts.models.user import Role, User

__all__ = ["ApiKey", "Company", "Creditor", "Role", "User"]
