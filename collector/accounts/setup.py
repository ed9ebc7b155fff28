"""Builds what logins need from the app's configuration: the throttle (on the jobs'
Redis connection when there is one), the session lifetimes, the password links."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from collector.accounts.sessions import Lifetimes
from collector.accounts.throttle import PROCESS_COUNTER, LoginThrottle, RedisCounter
from collector.runtime import setup as runtime_setup


def login_throttle(app: Flask) -> LoginThrottle:
    """Counts failed logins in Redis, shared by every web process; without Redis (the
    demo's in-process jobs), in this process's memory."""
    backend = app.extensions["jobs"].backend
    counter = RedisCounter(backend.connection) if backend.name == "rq" else PROCESS_COUNTER
    cfg = app.config
    return LoginThrottle(
        counter,
        account_limit=cfg["LOGIN_ACCOUNT_LIMIT"],
        address_limit=cfg["LOGIN_ADDRESS_LIMIT"],
        window=timedelta(minutes=cfg["LOGIN_WINDOW_MINUTES"]),
    )


def lifetimes(app: Flask) -> Lifetimes:
    """How long a session lasts unused and at most (SESSION_IDLE_MINUTES, _MAX_HOURS)."""
    return Lifetimes(
        idle=timedelta(minutes=app.config["SESSION_IDLE_MINUTES"]),
        longest=timedelta(hours=app.config["SESSION_MAX_HOURS"]),
    )


def link_lifetime(app: Flask) -> timedelta:
    """How long a one-time password link works (PASSWORD_LINK_HOURS)."""
    return timedelta(hours=app.config["PASSWORD_LINK_HOURS"])


def link_base(app: Flask) -> str:
    """What a password link's token is appended to: the public /password/new/ page."""
    return runtime_setup.public_url(app, "/password/new/")
