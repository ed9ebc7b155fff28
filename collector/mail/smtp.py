"""Email delivery: build a message, hand it to SMTP or keep it in the demo mail sink.

No Flask, no database: ``collector.mail.setup.mailer`` builds a mailer from the config and
``collector.mail.sending.send_mail`` records every send as a ``MailMessage`` row.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, formatdate, getaddresses, make_msgid
from typing import ClassVar, Protocol

SECURITY_NONE = "none"
SECURITY_STARTTLS = "starttls"
SECURITY_SSL = "ssl"
SECURITIES = (SECURITY_NONE, SECURITY_STARTTLS, SECURITY_SSL)

MAX_ADDRESS = 254  # RFC 5321's limit on a forward path
MAX_REASON = 300

Attachment = tuple[str, bytes, str]  # (filename, content, mimetype such as "application/pdf")


@dataclass(frozen=True)
class Email:
    """What one email says and to whom; ``build_message`` adds the sender, date and id."""

    recipient: str
    subject: str
    text: str
    html: str | None = None
    attachments: Sequence[Attachment] = ()


class MailError(Exception):
    """Delivery failed; ``reason`` is short, meant for the mail log, and never holds a secret."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Mailer(Protocol):
    """Something that delivers a built message or raises ``MailError``.

    ``delivers`` is False for a sink, whose stored row is the only delivery there is.
    """

    delivers: bool

    def send(self, message: EmailMessage) -> None: ...


class SinkMailer:
    """The demo mail sink: sends nothing; the ``MailMessage`` row is what the UI shows."""

    delivers = False

    def send(self, message: EmailMessage) -> None:
        """Accept the message and do nothing with it."""


@dataclass(repr=False)
class SmtpMailer:
    """Sends through one SMTP server, one connection per message.

    ``security`` is ``none``, ``starttls`` (plain connection upgraded before login) or ``ssl``
    (TLS from the first byte, usually port 465). Certificates are verified against
    ``tls_context``, the system's CAs by default.
    """

    delivers: ClassVar[bool] = True

    host: str
    port: int
    security: str
    username: str = ""
    password: str = ""  # never shown: not in the repr, blanked out of failure reasons
    timeout: float = 15
    tls_context: ssl.SSLContext = field(default_factory=ssl.create_default_context, kw_only=True)

    def __post_init__(self) -> None:
        if self.security not in SECURITIES:
            raise ValueError(f"MAIL_SECURITY must be one of {', '.join(SECURITIES)}")

    def __repr__(self) -> str:
        return f"<SmtpMailer {self.security} {self.host}:{self.port} user={self.username!r}>"

    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` to its recipients, or raise ``MailError``."""
        stage = "connect"
        try:
            with self._connect() as smtp:
                if self.security == SECURITY_STARTTLS:
                    stage = "starttls"
                    smtp.starttls(context=self.tls_context)
                if self.username:
                    stage = "login"
                    smtp.login(self.username, self.password)
                stage = "send"
                refused = smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(self._reason(stage, exc)) from exc
        if refused:
            # Only some recipients refused: smtplib returns them instead of raising.
            raise MailError(_short(f"recipient refused: {', '.join(sorted(refused))}"))

    def _connect(self) -> smtplib.SMTP:
        if self.security == SECURITY_SSL:
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self.tls_context
            )
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def _reason(self, stage: str, exc: BaseException) -> str:
        reason = _describe(stage, exc, f"{self.host}:{self.port}")
        if self.password:
            # A server may echo what it was sent; the password never reaches the mail log.
            reason = reason.replace(self.password, "***")
        return _short(reason)


def _describe(stage: str, exc: BaseException, server: str) -> str:
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        wanted = {"starttls": "STARTTLS", "login": "AUTH"}.get(stage, "this command")
        return f"{stage} failed: {server} does not offer {wanted}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "recipient refused: " + "; ".join(
            f"{rcpt} {code} {_text(text)}" for rcpt, (code, text) in exc.recipients.items()
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{stage} refused: {exc.smtp_code} {_text(exc.smtp_error)}"
    # smtplib reports a read timeout as a disconnection; the timeout is its cause.
    if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
        return f"{stage} failed: {server} did not answer in time"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"{stage} failed: {server} closed the connection"
    if isinstance(exc, ssl.SSLError):
        return f"{stage} failed: TLS error: {exc.reason or exc}"
    if stage == "connect" and isinstance(exc, OSError):
        return f"cannot connect to {server}: {exc.strerror or exc}"
    return f"{stage} failed: {exc}"


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _short(reason: str) -> str:
    reason = " ".join(reason.split())
    return reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 1] + "…"


def check_address(address: str) -> tuple[str, str]:
    """Split one address (``a@b.example`` or ``Name <a@b.example>``) into (name, address).

    Raises ValueError for anything else: CR/LF (header injection), several addresses, no
    ``@``, whitespace in the address, or more than 254 characters.
    """
    _refuse_line_breaks("address", address)
    parsed = getaddresses([address])
    if len(parsed) != 1:
        raise ValueError(f"exactly one email address expected: {address!r}")
    name, addr = parsed[0]
    local, at, domain = addr.rpartition("@")
    if not (local and at and domain) or any(c.isspace() for c in addr) or len(addr) > MAX_ADDRESS:
        raise ValueError(f"not a valid email address: {address!r}")
    return name, addr


def build_message(sender: str, email: Email) -> EmailMessage:
    """A ready-to-send message: the text, the html as its alternative, then the attachments.

    Raises ValueError on a bad address, CR/LF in the subject or a filename, or a mimetype
    that is not ``type/subtype``.
    """
    sender_name, sender_addr = check_address(sender)
    recipient_name, recipient_addr = check_address(email.recipient)
    _refuse_line_breaks("subject", email.subject)
    message = EmailMessage()
    message["From"] = formataddr((sender_name, sender_addr))
    message["To"] = formataddr((recipient_name, recipient_addr))
    message["Subject"] = email.subject
    message["Date"] = formatdate(usegmt=True)
    # Our own domain: make_msgid would otherwise ask DNS for this host's FQDN.
    message["Message-ID"] = make_msgid(domain=sender_addr.rpartition("@")[2])
    message.set_content(email.text)
    if email.html is not None:
        message.add_alternative(email.html, subtype="html")
    for filename, content, mimetype in email.attachments:
        _refuse_line_breaks("attachment filename", filename)
        maintype, slash, subtype = mimetype.partition("/")
        if not (maintype and slash and subtype):
            raise ValueError(f"mimetype must be type/subtype: {mimetype!r}")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message


def _refuse_line_breaks(what: str, value: str) -> None:
    if "\r" in value or "\n" in value:
        raise ValueError(f"line break in {what} refused (header injection)")
