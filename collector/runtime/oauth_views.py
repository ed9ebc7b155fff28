"""Connecting an OAuth service from a page: Connect → the service's authorize page → our
callback (the ``state`` checked) → the tokens stored. Teamleader's and Exact Online's pages
both go this one way."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from flask import flash, redirect, request, session
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from collector.core.oauth import OAuth2Client, new_state, state_matches
from collector.extensions import db
from collector.runtime.oauth_connection import ConnectFailed
from collector.runtime.wordings import Wordings
from collector.runtime.wordings import known as _l

# How long a started authorization may take. The services' codes live 3 (Exact) to 10
# (Teamleader) minutes once issued, but logging in at the service may take a while first.
STATE_TTL = 600  # seconds

# Why connecting failed, as ``ConnectFailed`` says it in English (``oauth_connection``, and
# the Teamleader and Exact Online ``connection`` modules), for the flash message.
CONNECT_FAILED = Wordings(
    _l("%(service)s refused the authorization (%(detail)s)."),
    _l("%(service)s could not be reached: %(error)s"),
    _l("Reading the Teamleader account failed: %(error)s"),
    _l("Registering webhooks in Teamleader failed: %(error)s"),
    _l("Another Teamleader account is connected; disconnect it before connecting this one."),
    _l("Reading the Exact Online user failed: %(error)s"),
    _l("This Exact Online user has no administration we may use."),
)


class OAuthFlow:
    """The authorization round trip of one service; its ``state`` lives in the user's session,
    is used once (popped by the callback) and compared in constant time."""

    def __init__(self, service: str, state_key: str, ttl: float = STATE_TTL) -> None:
        self.service = service
        self.state_key = state_key
        self.ttl = ttl

    def start(self, oauth: OAuth2Client, **remember: Any) -> Response:
        """Send the user to ``oauth``'s authorize page; ``remember`` comes back to ``finish``."""
        state = new_state()
        session[self.state_key] = {"value": state, "at": time.time(), **remember}
        return redirect(oauth.authorize_url(state))

    def finish(
        self,
        complete: Callable[[dict, str], Any],
        connected: Callable[[Any], str],
        back: str,
    ) -> Response:
        """On the callback: check it, then ``complete(started, code)`` and flash
        ``connected(connection)``; whatever went wrong is flashed instead. Back to ``back``."""
        started = session.pop(self.state_key, None)
        problem = self.problem(started, request.args)
        if problem is None:
            try:
                connection = complete(started, request.args["code"])
            except ConnectFailed as exc:
                db.session.rollback()
                problem = _("%(problem)s Nothing was connected.", problem=CONNECT_FAILED(str(exc)))
            else:
                flash(connected(connection), "success")
        if problem is not None:
            flash(problem, "error")
        return redirect(back)

    def problem(self, started: dict | None, args: Mapping[str, str]) -> str | None:
        """Why a callback must not be trusted (in the reader's language), or None."""
        name = self.service
        if not started or time.time() - started.get("at", 0) > self.ttl:
            return _(
                "This %(service)s authorization was not started here or has expired; start again.",
                service=name,
            )
        if not state_matches(started["value"], args.get("state", "")):
            return _(
                "The %(service)s authorization did not match this session; start again.",
                service=name,
            )
        if args.get("error"):
            if args["error"] == "access_denied":
                return _("Access was denied in %(service)s; nothing was connected.", service=name)
            return _(
                "%(service)s refused the authorization (%(detail)s).",
                service=name,
                detail=args["error"][:100],
            )
        if not args.get("code"):
            return _("%(service)s sent no authorization code; start again.", service=name)
        return None
