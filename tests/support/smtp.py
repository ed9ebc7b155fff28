"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for mail tests.

``smtp_server`` is plain SMTP with no STARTTLS and no AUTH. ``smtp_server_starttls`` and
``smtp_server_ssl`` speak TLS with a self-signed certificate (trust it with
``smtp_tls_client_context``) and take the login ``SMTP_USER`` / ``SMTP_PASSWORD``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "127.0.0.1"
SMTP_USER = "mailer"
SMTP_PASSWORD = "smtp-secret-Pa55"


@dataclass
class Received:
    """One message as the server saw it: the SMTP envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class SmtpServer:
    """A running server: where to reach it, what arrived, and who logged in."""

    host: str
    port: int
    received: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    @property
    def messages(self) -> list[EmailMessage]:
        return [item.message for item in self.received]

    # aiosmtpd handler hook: called once per message, on the server's own thread.
    async def handle_DATA(self, server, session, envelope) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(),
            auth_data.password.decode(),
        ) == (SMTP_USER, SMTP_PASSWORD)
        if ok:
            self.logins.append(auth_data.login.decode())
        # handled=False: aiosmtpd then answers the refusal itself (535) instead of staying silent.
        return AuthResult(success=ok, handled=False)


def free_port() -> int:
    """A loopback port nobody listens on (aiosmtpd's Controller cannot bind port 0)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@contextmanager
def running_smtp_server(
    *, starttls: ssl.SSLContext | None = None, implicit_tls: ssl.SSLContext | None = None
) -> Iterator[SmtpServer]:
    """Serve SMTP on a free loopback port until the block ends.

    With a TLS context the server accepts the login ``SMTP_USER`` / ``SMTP_PASSWORD`` once
    the connection is encrypted (with STARTTLS it also requires it).
    """
    server = SmtpServer(HOST, free_port())
    options: dict = {"server_hostname": "smtp.test", "ready_timeout": 5}
    if starttls:
        options |= {
            "tls_context": starttls,
            "require_starttls": True,
            "authenticator": server.authenticate,
            "auth_required": True,
        }
    if implicit_tls:
        # aiosmtpd only counts STARTTLS as encrypted: told to require TLS for AUTH it would
        # never offer it here, and told to require AUTH without TLS it warns. So AUTH is
        # offered, not enforced; tests read ``logins`` to see that it happened.
        options |= {
            "ssl_context": implicit_tls,
            "authenticator": server.authenticate,
            "auth_require_tls": False,
        }
    controller = Controller(server, hostname=HOST, port=server.port, **options)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def smtp_certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: (certificate file, key file)."""
    folder = tmp_path_factory.mktemp("smtp-tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    # Valid on any day the suite may run on: OpenSSL checks it against the machine's
    # real clock even when ``make test-moved-clock`` moves ours.
    since, until = dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(since)
        .not_valid_after(until)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
def smtp_tls_client_context(smtp_certificate) -> ssl.SSLContext:
    """A client context that trusts the test certificate, and verifies it as usual."""
    return ssl.create_default_context(cafile=str(smtp_certificate[0]))


def _server_context(smtp_certificate) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, smtp_certificate))
    return context


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """Plain SMTP on loopback: no STARTTLS, no AUTH."""
    with running_smtp_server() as server:
        yield server


@pytest.fixture
def smtp_server_starttls(smtp_certificate) -> Iterator[SmtpServer]:
    """SMTP that requires STARTTLS and then a login."""
    with running_smtp_server(starttls=_server_context(smtp_certificate)) as server:
        yield server


@pytest.fixture
def smtp_server_ssl(smtp_certificate) -> Iterator[SmtpServer]:
    """SMTP over TLS from the first byte (port 465 style) that offers a login."""
    with running_smtp_server(implicit_tls=_server_context(smtp_certificate)) as server:
        yield server


@pytest.fixture
def closed_port() -> int:
    """A loopback port where connections are refused."""
    return free_port()
