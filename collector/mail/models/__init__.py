"""TODO models"""

from collector.mail.models.document_mail import DocumentMail, DocumentMailKind, DocumentMailStatus
from collector.mail.models.mail_message import MailMessage, MailStatus

__all__ = ["DocumentMail", "DocumentMailKind", "DocumentMailStatus", "MailMessage", "MailStatus"]
