"""Builds the Exact Online clients from the app's configuration: the country hosts,
OAuth, and the API client pacing itself within each administration's budget."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, url_for

from collector import exact
from collector.exact.connection import ExactTokenSource
from collector.exact.models import ExactConnection
from collector.runtime import setup as runtime_setup


def host(app: Flask, country: str) -> str:
    """The Exact Online host of ``country`` (EXACT_BASE_URL with ``{country}`` filled in)."""
    return exact.host_for(app.config["EXACT_BASE_URL"], country)


def redirect_uri(app: Flask) -> str:
    """Where Exact Online sends the browser back after the user allowed access."""
    with app.test_request_context():
        return runtime_setup.public_url(app, url_for("exact.callback"))


def oauth(app: Flask, host: str) -> exact.ExactOAuth:
    return exact.ExactOAuth(
        exact.build_session(),
        host,
        app.config["EXACT_CLIENT_ID"],
        app.config["EXACT_CLIENT_SECRET"],
        redirect_uri(app),
    )


def client_factory(app: Flask):
    """A function ``(token_source, host, division, **options) -> ExactClient``.

    With a division and Redis, the client paces itself within that administration's
    minutely and daily budget together with every other worker (reference §3).
    """

    def make(token_source, host: str, division: int | None, **options) -> exact.ExactClient:
        limiter = pacer(app, division) if division else None
        return exact.ExactClient(
            exact.build_session(), host, token_source, division, limiter=limiter, **options
        )

    return make


def pacer(app: Flask, division: int) -> exact.ExactRateLimiter | None:
    """The administration's shared pacer (None without Redis: jobs then run in process)."""
    backend = app.extensions["jobs"].backend
    if backend.name != "rq":
        return None
    return exact.ExactRateLimiter.for_division(
        backend.connection,
        division,
        minute_limit=app.config["EXACT_RATE_LIMIT"],
        minute_window=app.config["EXACT_RATE_WINDOW"],
        daily_limit=app.config["EXACT_DAILY_LIMIT"],
    )


def daily_limit_reset(app: Flask, connection: ExactConnection | None) -> datetime | None:
    """When the administration's spent daily budget resets (None while it is not spent)."""
    if connection is None or not connection.division:
        return None
    limiter = pacer(app, connection.division)
    return limiter.daily_reset() if limiter is not None else None


def token_source(app: Flask, connection: ExactConnection) -> ExactTokenSource:
    """The stored connection's tokens, refreshed through the database."""
    return ExactTokenSource(connection.id, oauth(app, connection.host), runtime_setup.cipher(app))


def client(app: Flask, connection: ExactConnection, **options) -> exact.ExactClient:
    """A client for the stored connection's administration, refreshing through the database."""
    source = token_source(app, connection)
    return client_factory(app)(source, connection.host, connection.division, **options)
