"""Builds the mailer from the app's configuration, and the addresses letters need."""

from __future__ import annotations

from flask import Flask

from collector.mail.smtp import Mailer, SinkMailer, SmtpMailer
from collector.runtime import setup as runtime_setup


def uses_sink(app: Flask) -> bool:
    """True in the demo: no MAIL_HOST, so mail is kept as rows instead of sent."""
    return not app.config["MAIL_HOST"]


def mailer(app: Flask) -> Mailer:
    """The SMTP mailer from the MAIL_* settings, or the demo mail sink when MAIL_HOST is empty."""
    cfg = app.config
    if uses_sink(app):
        return SinkMailer()
    return SmtpMailer(
        cfg["MAIL_HOST"],
        cfg["MAIL_PORT"],
        cfg["MAIL_SECURITY"],
        cfg["MAIL_USERNAME"],
        cfg["MAIL_PASSWORD"],
    )


def sender(app: Flask) -> str:
    """The From address of every email the service sends."""
    return app.config["MAIL_FROM"]


def payment_base_url(app: Flask) -> str:
    """The address the payment links in letters start with: the payment page's, /pay/."""
    return runtime_setup.public_url(app, "/pay/")


def portal_base_url(app: Flask) -> str:
    """The address the portal links in letters start with: the customer portal's, /portal/."""
    return runtime_setup.public_url(app, "/portal/")
