"""Builds the third-party clients from the app's configuration.

Adapters (views, jobs, CLI) call these and hand the clients to services; the
services never see the configuration.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, url_for

from collector import exact
from collector.core.crypto import TokenCipher
from collector.core.storage import DocumentStore, FolderStore
from collector.exact.connection import ExactTokenSource
from collector.exact.models import ExactConnection
from collector.mail.smtp import Mailer, SinkMailer, SmtpMailer
from collector.payments import ProviderClient
from collector.teamleader import (
    FileFetcher,
    RedisRateLimiter,
    ShareLimiter,
    TeamleaderClient,
    TeamleaderOAuth,
    TokenSource,
    build_session,
)
from collector.teamleader.connection import DbTokenSource
from collector.teamleader.models import TeamleaderConnection


def cipher(app: Flask) -> TokenCipher:
    return TokenCipher.from_config(app.config["TOKEN_ENCRYPTION_KEY"], app.config["SECRET_KEY"])


def teamleader_redirect_uri(app: Flask) -> str:
    base = app.config["PUBLIC_BASE_URL"].rstrip("/")
    with app.test_request_context():
        return base + url_for("integrations.teamleader_callback")


def teamleader_oauth(app: Flask) -> TeamleaderOAuth:
    return TeamleaderOAuth(
        build_session(),
        app.config["TEAMLEADER_AUTH_URL"],
        app.config["TEAMLEADER_CLIENT_ID"],
        app.config["TEAMLEADER_CLIENT_SECRET"],
        teamleader_redirect_uri(app),
    )


# Background work that may only use part of the account's rate budget: its name → the
# setting that says how large a part.
SHARES = {"pdf": "TEAMLEADER_PDF_SHARE"}


def teamleader_client_factory(app: Flask):
    """A function ``(token_source, account_id, share=None) -> TeamleaderClient``.

    With an account id and Redis, the client shares that account's rate budget
    with every other worker; with a ``share`` (a name in ``SHARES``) it also stays
    within that part of it.
    """

    def make(
        token_source: TokenSource,
        account_id: str | None,
        *,
        share: str | None = None,
        **options,
    ) -> TeamleaderClient:
        limiter = None
        backend = app.extensions["jobs"].backend
        if account_id and backend.name == "rq":
            # The jobs' Redis connection pool, not a new one per client.
            limit, window = (
                app.config["TEAMLEADER_RATE_LIMIT"],
                app.config["TEAMLEADER_RATE_WINDOW"],
            )
            limiter = RedisRateLimiter.for_account(
                backend.connection, account_id, limit=limit, window=window
            )
            if share is not None:
                part = RedisRateLimiter.for_account(
                    backend.connection,
                    f"{account_id}:{share}",
                    limit=max(1, int(limit * app.config[SHARES[share]])),
                    window=window,
                )
                limiter = ShareLimiter(part, limiter)
        return TeamleaderClient(
            build_session(),
            app.config["TEAMLEADER_API_URL"],
            token_source,
            limiter=limiter,
            **options,
        )

    return make


def teamleader_client(app: Flask, connection: TeamleaderConnection, **options) -> TeamleaderClient:
    """A client for a stored connection, refreshing its tokens through the database.

    ``options`` go to ``TeamleaderClient`` (e.g. ``max_retries``)."""
    source = DbTokenSource(connection.id, teamleader_oauth(app), cipher(app))
    return teamleader_client_factory(app)(source, connection.account_id, **options)


def mail_sink(app: Flask) -> bool:
    """True in the demo: no MAIL_HOST, so mail is kept as rows instead of sent."""
    return not app.config["MAIL_HOST"]


def mailer(app: Flask) -> Mailer:
    """The SMTP mailer from the MAIL_* settings, or the demo mail sink when MAIL_HOST is empty."""
    cfg = app.config
    if mail_sink(app):
        return SinkMailer()
    return SmtpMailer(
        cfg["MAIL_HOST"],
        cfg["MAIL_PORT"],
        cfg["MAIL_SECURITY"],
        cfg["MAIL_USERNAME"],
        cfg["MAIL_PASSWORD"],
    )


def mail_sender(app: Flask) -> str:
    """The From address of every email the service sends."""
    return app.config["MAIL_FROM"]


def document_store(app: Flask) -> DocumentStore:
    """Where PDFs are kept: the DOCUMENT_STORAGE folder (create_app fills in its default)."""
    return FolderStore(Path(app.config["DOCUMENT_STORAGE"]))


def file_fetcher(app: Flask) -> FileFetcher:
    """Fetches the short-lived file locations of ``invoices.download``.

    Plain http is accepted only from the hosts in TEAMLEADER_FILES_HTTP_HOSTS and from
    TEAMLEADER_API_URL's own host when that is http: only an emulator is reached that way.
    """
    hosts = [h.strip() for h in app.config["TEAMLEADER_FILES_HTTP_HOSTS"].split(",") if h.strip()]
    api = urlsplit(app.config["TEAMLEADER_API_URL"])
    if api.scheme == "http":
        hosts.append(api.netloc)
    return FileFetcher(
        build_session(), plain_http_hosts=hosts, max_bytes=app.config["PDF_MAX_BYTES"]
    )


def payment_base_url(app: Flask) -> str:
    """The address payment links start with: PUBLIC_BASE_URL + /pay/."""
    return app.config["PUBLIC_BASE_URL"].rstrip("/") + "/pay/"


def payment_provider(app: Flask) -> ProviderClient | None:
    """The payment provider's client, or None when no API key is configured (then the
    payment page offers no online payment)."""
    key = app.config["PAYMENT_PROVIDER_API_KEY"]
    if not key:
        return None
    return ProviderClient(build_session(), app.config["PAYMENT_PROVIDER_URL"], key)


def provider_webhook_token(app: Flask) -> str:
    """The secret path segment of the provider's webhook URL.

    Mollie-style webhooks are not signed and carry only an id that is fetched back, so
    a forged call can at most make us re-read a payment; the token keeps even that to
    the provider. Derived from SECRET_KEY so it needs no setting of its own.
    """
    digest = hmac.new(app.config["SECRET_KEY"].encode(), b"provider-webhook", hashlib.sha256)
    return digest.hexdigest()[:40]


def provider_webhook_url(app: Flask) -> str:
    base = app.config["PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}/webhooks/provider/{provider_webhook_token(app)}"


def exact_host(app: Flask, country: str) -> str:
    """The Exact Online host of ``country`` (EXACT_BASE_URL with ``{country}`` filled in)."""
    return exact.host_for(app.config["EXACT_BASE_URL"], country)


def exact_redirect_uri(app: Flask) -> str:
    base = app.config["PUBLIC_BASE_URL"].rstrip("/")
    with app.test_request_context():
        return base + url_for("exact.callback")


def exact_oauth(app: Flask, host: str) -> exact.ExactOAuth:
    return exact.ExactOAuth(
        build_session(),
        host,
        app.config["EXACT_CLIENT_ID"],
        app.config["EXACT_CLIENT_SECRET"],
        exact_redirect_uri(app),
    )


def exact_client_factory(app: Flask):
    """A function ``(token_source, host, division, **options) -> ExactClient``.

    With a division and Redis, the client paces itself within that administration's
    minutely and daily budget together with every other worker (reference §3).
    """

    def make(token_source, host: str, division: int | None, **options) -> exact.ExactClient:
        backend = app.extensions["jobs"].backend
        limiter = None
        if division and backend.name == "rq":
            limiter = exact.ExactRateLimiter.for_division(
                backend.connection,
                division,
                minute_limit=app.config["EXACT_RATE_LIMIT"],
                minute_window=app.config["EXACT_RATE_WINDOW"],
                daily_limit=app.config["EXACT_DAILY_LIMIT"],
            )
        return exact.ExactClient(
            build_session(), host, token_source, division, limiter=limiter, **options
        )

    return make


def exact_token_source(app: Flask, connection: ExactConnection) -> ExactTokenSource:
    return ExactTokenSource(connection.id, exact_oauth(app, connection.host), cipher(app))


def exact_client(app: Flask, connection: ExactConnection, **options) -> exact.ExactClient:
    """A client for the stored connection's administration, refreshing through the database."""
    source = exact_token_source(app, connection)
    return exact_client_factory(app)(source, connection.host, connection.division, **options)
