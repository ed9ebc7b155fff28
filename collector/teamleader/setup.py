"""Builds the Teamleader clients from the app's configuration: OAuth, the API client
(sharing the account's rate budget through Redis) and the PDF download fetcher."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, url_for

from collector.core.http import USER_AGENT
from collector.runtime import setup as runtime_setup
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

# Background work that may only use part of the account's rate budget: its name → the
# setting that says how large a part.
SHARES = {"pdf": "TEAMLEADER_PDF_SHARE"}
FILE_ACCEPT = "application/pdf, */*"


def redirect_uri(app: Flask) -> str:
    """Where Teamleader sends the browser back after the user allowed access."""
    with app.test_request_context():
        return runtime_setup.public_url(app, url_for("integrations.teamleader_callback"))


def oauth(app: Flask) -> TeamleaderOAuth:
    return TeamleaderOAuth(
        build_session(),
        app.config["TEAMLEADER_AUTH_URL"],
        app.config["TEAMLEADER_CLIENT_ID"],
        app.config["TEAMLEADER_CLIENT_SECRET"],
        redirect_uri(app),
    )


def client_factory(app: Flask):
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


def client(app: Flask, connection: TeamleaderConnection, **options) -> TeamleaderClient:
    """A client for a stored connection, refreshing its tokens through the database.

    ``options`` go to ``TeamleaderClient`` (e.g. ``max_retries``)."""
    source = DbTokenSource(connection.id, oauth(app), runtime_setup.cipher(app))
    return client_factory(app)(source, connection.account_id, **options)


def file_fetcher(app: Flask) -> FileFetcher:
    """Fetches the short-lived file locations of ``invoices.download``.

    Plain http is accepted only from the hosts in TEAMLEADER_FILES_HTTP_HOSTS and from
    TEAMLEADER_API_URL's own host when that is http: only an emulator is reached that way.
    Every location goes through the outbound guard (an emulator on loopback only when
    OUTBOUND_ALLOWED_HOSTS names it).
    """
    hosts = [h.strip() for h in app.config["TEAMLEADER_FILES_HTTP_HOSTS"].split(",") if h.strip()]
    api = urlsplit(app.config["TEAMLEADER_API_URL"])
    if api.scheme == "http":
        hosts.append(api.netloc)
    session = runtime_setup.outbound_guard(app).session(USER_AGENT, accept=FILE_ACCEPT)
    return FileFetcher(session, plain_http_hosts=hosts, max_bytes=app.config["PDF_MAX_BYTES"])
