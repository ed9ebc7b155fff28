"""Connecting an OAuth service from a page: Connect → the service's authorize page → our
callback (the ``state`` checked) → the tokens stored. Teamleader's and Exact Online's pages
both go this one way."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from flask import flash, redirect, request, session
from werkzeug.wrappers import Response

from collector.core.oauth import OAuth2Client, new_state, state_matches
from collector.extensions import db
from collector.runtime.oauth_connection import ConnectFailed

# How long a started authorization may take. The services' codes live 3 (Exact) to 10
# (Teamleader) minutes once issued, but logging in at the service may take a while first.
STATE_TTL = 600  # seconds


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
                problem = f"{exc} Nothing was connected."
            else:
                flash(connected(connection), "success")
        if problem is not None:
            flash(problem, "error")
        return redirect(back)

    def problem(self, started: dict | None, args: Mapping[str, str]) -> str | None:
        """Why a callback must not be trusted, or None."""
        name = self.service
        if not started or time.time() - started.get("at", 0) > self.ttl:
            return f"This {name} authorization was not started here or has expired; start again."
        if not state_matches(started["value"], args.get("state", "")):
            return f"The {name} authorization did not match this session; start again."
        if args.get("error"):
            if args["error"] == "access_denied":
                return f"Access was denied in {name}; nothing was connected."
            return f"{name} refused the authorization ({args['error'][:100]})."
        if not args.get("code"):
            return f"{name} sent no authorization code; start again."
        return None
