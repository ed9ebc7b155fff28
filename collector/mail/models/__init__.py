"""The mail models: every message sent."""

from collector.mail.models.mail_message import MailMessage, MailStatus

__all__ = ["MailMessage", "MailStatus"]
