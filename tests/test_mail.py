"""Mail: messages built and sent over a real SMTP server on loopback, every send a row."""

from __future__ import annotations

import socket

import pytest

from collector.extensions import db
from collector.mail import setup as mail_setup
from collector.mail.models import MailMessage, MailStatus
from collector.mail.sending import send_mail
from collector.mail.smtp import Email, MailError, SinkMailer, SmtpMailer, build_message
from tests.support.smtp import HOST, SMTP_PASSWORD, SMTP_USER

SENDER = "Collector <collector@example.com>"
RECIPIENT = "finance@customer.example"
PDF = b"%PDF-1.4 invoice 2026/0042\n%%EOF\n"


def send(mailer, **overrides) -> MailMessage:
    values = {
        "kind": "import_summary",
        "recipient": RECIPIENT,
        "subject": "Import finished: 12 invoices",
        "text": "12 invoices imported, 3 skipped.",
        "html": "<p>12 invoices imported, <b>3</b> skipped.</p>",
        "attachments": [("invoice-2026-0042.pdf", PDF, "application/pdf")],
    }
    values.update(overrides)
    sender = values.pop("sender", SENDER)
    return send_mail(mailer, sender, **values)


def stored_rows() -> list[MailMessage]:
    db.session.expire_all()
    return db.session.execute(db.select(MailMessage).order_by(MailMessage.id)).scalars().all()


def plain_mailer(server, **kwargs) -> SmtpMailer:
    return SmtpMailer(server.host, server.port, "none", **kwargs)


def test_smtp_delivers_text_html_and_attachment(app, smtp_server):
    row = send(plain_mailer(smtp_server))

    [received] = smtp_server.received
    assert received.mail_from == "collector@example.com"
    assert received.rcpt_tos == [RECIPIENT]
    message = received.message
    assert message["From"] == SENDER
    assert message["To"] == RECIPIENT
    assert message["Subject"] == "Import finished: 12 invoices"
    assert message["Message-ID"].endswith("@example.com>")
    assert message.get_body(("plain",)).get_content().strip() == "12 invoices imported, 3 skipped."
    assert "<b>3</b>" in message.get_body(("html",)).get_content()
    [attachment] = message.iter_attachments()
    assert attachment.get_filename() == "invoice-2026-0042.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF
    # No username, so no login: this server offers no AUTH and would have refused one.
    assert smtp_server.logins == []

    [stored] = stored_rows()
    assert stored.id == row.id
    assert (stored.status, stored.attempts, stored.error) == (MailStatus.SENT, 1, None)
    assert stored.sent_at is not None
    assert (stored.kind, stored.recipient) == ("import_summary", RECIPIENT)
    assert stored.body_html == "<p>12 invoices imported, <b>3</b> skipped.</p>"


def test_text_only_message_is_not_multipart(smtp_server):
    message = build_message(SENDER, Email(RECIPIENT, "Hello", "Just text."))
    plain_mailer(smtp_server).send(message)

    [received] = smtp_server.messages
    assert received.get_content_type() == "text/plain"
    assert received.get_content().strip() == "Just text."


def test_sink_stores_and_sends_nothing(app, smtp_server, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_HOST", "")
    mailer = mail_setup.mailer(app)
    assert isinstance(mailer, SinkMailer)

    send(mailer, sender=mail_setup.sender(app))

    [stored] = stored_rows()
    assert (stored.status, stored.attempts, stored.error) == (MailStatus.STORED, 1, None)
    assert stored.body_text == "12 invoices imported, 3 skipped."
    assert smtp_server.received == []


def test_configured_host_sends_over_smtp(app, smtp_server, monkeypatch):
    for key, value in {
        "MAIL_HOST": smtp_server.host,
        "MAIL_PORT": smtp_server.port,
        "MAIL_SECURITY": "none",
        "MAIL_USERNAME": "",
        "MAIL_FROM": "billing@supplier.example",
    }.items():
        monkeypatch.setitem(app.config, key, value)

    row = send(mail_setup.mailer(app), sender=mail_setup.sender(app))

    assert row.status == MailStatus.SENT
    [message] = smtp_server.messages
    assert message["From"] == "billing@supplier.example"


def test_refused_connection_fails_with_reason_and_no_password(app, closed_port):
    mailer = SmtpMailer(HOST, closed_port, "starttls", "mailer", "hunter2-Secret")

    row = send(mailer)

    [stored] = stored_rows()
    assert stored.id == row.id
    assert (stored.status, stored.attempts, stored.sent_at) == (MailStatus.FAILED, 1, None)
    assert f"cannot connect to {HOST}:{closed_port}" in stored.error
    assert "refused" in stored.error.lower()
    assert "hunter2-Secret" not in stored.error
    assert "hunter2-Secret" not in repr(mailer)


def test_silent_server_times_out():
    # Accepts the TCP connection (kernel backlog) but never sends the SMTP greeting.
    with socket.socket() as listener:
        listener.bind((HOST, 0))
        listener.listen()
        mailer = SmtpMailer(HOST, listener.getsockname()[1], "none", timeout=0.5)
        with pytest.raises(MailError, match="did not answer in time"):
            mailer.send(build_message(SENDER, Email(RECIPIENT, "Hello", "text")))


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("subject", "Invoice\r\nBcc: everyone@evil.example", "line break in subject refused"),
        ("subject", "Invoice\nX-Injected: 1", "line break in subject refused"),
        (
            "recipient",
            "finance@customer.example\r\nBcc: everyone@evil.example",
            "line break in address refused",
        ),
        (
            "recipient",
            "finance@customer.example, everyone@evil.example",
            "exactly one email address expected",
        ),
        ("recipient", "not an address", "not a valid email address"),
        (
            "sender",
            "collector@example.com\nReply-To: thief@evil.example",
            "line break in address refused",
        ),
    ],
)
def test_header_injection_and_bad_addresses_refused(field, value, reason):
    args = {"sender": SENDER, "recipient": RECIPIENT, "subject": "Invoice", "text": "t"}
    args[field] = value
    with pytest.raises(ValueError, match=reason):
        build_message(args.pop("sender"), Email(**args))


def test_injected_attachment_filename_refused():
    with pytest.raises(ValueError, match="header injection"):
        build_message(
            SENDER, Email(RECIPIENT, "Hi", "t", attachments=[("a.pdf\r\nX: y", PDF, "x/y")])
        )


def test_bad_address_raises_and_writes_no_row(app, smtp_server):
    with pytest.raises(ValueError, match="line break in address refused"):
        send(plain_mailer(smtp_server), recipient="finance@customer.example\nBcc: x@evil.example")

    assert stored_rows() == []
    assert smtp_server.received == []


def test_overlong_subject_refused_on_every_database(app, smtp_server):
    with pytest.raises(ValueError, match="subject"):
        send(plain_mailer(smtp_server), subject="x" * 256)

    assert stored_rows() == []


def test_starttls_not_offered_fails_clearly(app, smtp_server):
    mailer = SmtpMailer(smtp_server.host, smtp_server.port, "starttls")

    row = send(mailer)

    assert row.status == MailStatus.FAILED
    assert row.error == f"starttls failed: {HOST}:{smtp_server.port} does not offer STARTTLS"
    # Nothing goes out in clear text when encryption was asked for.
    assert smtp_server.received == []


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_and_login(app, request, security, smtp_tls_client_context):
    server = request.getfixturevalue(f"smtp_server_{security}")
    mailer = SmtpMailer(
        server.host,
        server.port,
        security,
        SMTP_USER,
        SMTP_PASSWORD,
        tls_context=smtp_tls_client_context,
    )

    row = send(mailer)

    assert (row.status, row.error) == (MailStatus.SENT, None)
    assert server.logins == [SMTP_USER]
    [message] = server.messages
    assert message["Subject"] == "Import finished: 12 invoices"


def test_wrong_password_fails_without_the_password(
    app, smtp_server_starttls, smtp_tls_client_context
):
    server = smtp_server_starttls
    mailer = SmtpMailer(
        server.host,
        server.port,
        "starttls",
        SMTP_USER,
        "wrong-Pa55word",
        tls_context=smtp_tls_client_context,
    )

    row = send(mailer)

    assert row.status == MailStatus.FAILED
    assert row.error.startswith("login refused: 535")
    assert "wrong-Pa55word" not in row.error
    assert server.received == []


def test_untrusted_certificate_fails(app, smtp_server_starttls):
    # The default context trusts the system's CAs only, not the test's self-signed certificate.
    server = smtp_server_starttls
    mailer = SmtpMailer(server.host, server.port, "starttls", SMTP_USER, SMTP_PASSWORD)

    row = send(mailer)

    assert row.status == MailStatus.FAILED
    assert row.error.startswith("starttls failed: TLS error:")
    assert "CERTIFICATE_VERIFY_FAILED" in row.error
    assert server.received == []


def test_unknown_security_refused():
    with pytest.raises(ValueError, match="MAIL_SECURITY"):
        SmtpMailer("smtp.example.com", 587, "tls")
