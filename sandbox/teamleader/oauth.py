"""OAuth2 authorization-code flow: ``/oauth2/authorize`` and ``/oauth2/access_token``.

Reference §1: authorize takes ``client_id``, ``response_type=code``, ``redirect_uri``,
``state``; the token endpoint takes a form-encoded or JSON body with grant types
``authorization_code`` and ``refresh_token``. The real authorize page asks the user to log
in; the emulator has one user, so the page only asks to grant or deny.
"""

from __future__ import annotations

import hmac
import json
import time
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, jsonify, redirect, render_template_string, request, url_for

from . import faults, tokens
from .emulator import Emulator, current

bp = Blueprint("oauth", __name__)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Teamleader Focus sandbox – authorize</title>
<style>body{font-family:sans-serif;max-width:34rem;margin:4rem auto}
button{margin-right:1rem}</style>
</head><body><main>
<h1>Allow {{ client_id }} to access Teamleader Focus?</h1>
<p>Signed in as <strong>{{ user }}</strong> of <strong>{{ company }}</strong>.
This is the Teamleader Focus <em>emulator</em> (sandbox), not the real service.</p>
<form method="post" action="{{ action }}">
{% for key, value in fields.items() %}<input type="hidden" name="{{ key }}" value="{{ value }}">
{% endfor %}<button type="submit" name="decision" value="grant">Grant access</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form></main></body></html>"""


def _with_query(url: str, **params: str | None) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query) + [(k, v) for k, v in params.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _authorize_params(em: Emulator, source) -> dict | Response:
    """Validated request parameters, or the response to give instead."""
    fields = {k: source.get(k) for k in ("client_id", "response_type", "redirect_uri", "state")}
    uri = fields["redirect_uri"] or ""
    # An unknown client or a bad redirect_uri must not redirect (RFC 6749 §4.1.2.1).
    if fields["client_id"] not in em.settings["CLIENTS"]:
        return Response("Unknown client_id\n", 400, mimetype="text/plain")
    if urlsplit(uri).scheme not in ("http", "https"):
        return Response(
            "redirect_uri must be an absolute http(s) URL\n", 400, mimetype="text/plain"
        )
    if fields["response_type"] != "code":
        # The implicit grant (response_type=token) exists at Teamleader but is not emulated.
        return redirect(_with_query(uri, error="unsupported_response_type", state=fields["state"]))
    return fields


@bp.get("/oauth2/authorize")
def authorize() -> Response | str:
    """The consent page with "Grant access" and "Deny" buttons."""
    em = current()
    with em.store.lock:
        em.store.calls["oauth2.authorize"] += 1
        user, department = em.store.data.user, next(iter(em.store.data.departments.values()))
    fields = _authorize_params(em, request.args)
    if isinstance(fields, Response):
        return fields
    return render_template_string(
        PAGE,
        client_id=fields["client_id"],
        user=f"{user['first_name']} {user['last_name']}",
        company=department["name"],
        action=url_for("oauth.decide"),
        fields={k: v for k, v in fields.items() if v is not None},
    )


@bp.post("/oauth2/authorize")
def decide() -> Response:
    """Redirect back with a single-use code, or with ``error=access_denied``."""
    em = current()
    fields = _authorize_params(em, request.form)
    if isinstance(fields, Response):
        return fields
    if request.form.get("decision") != "grant":
        return redirect(
            _with_query(fields["redirect_uri"], error="access_denied", state=fields["state"])
        )
    expires_at = em.clock.now() + timedelta(seconds=em.settings["CODE_TTL"])
    code = tokens.issue_code(em.store, fields["client_id"], fields["redirect_uri"], expires_at)
    return redirect(_with_query(fields["redirect_uri"], code=code, state=fields["state"]))


@bp.post("/oauth2/access_token")
def access_token() -> Response:
    """Exchange a code or a refresh token for a new token pair.

    Error bodies of this endpoint are undocumented (reference §5 [?]); we answer OAuth
    style, ``{"error": ..., "error_description": ...}`` (RFC 6749 §5.2): 401
    ``invalid_client``, 400 ``invalid_request`` / ``invalid_grant`` / ``unsupported_grant_type``.
    """
    em = current()
    with em.store.lock:
        em.store.calls["oauth2.access_token"] += 1
    injection = faults.take(em.store, "oauth2.access_token")
    if injection.delay_ms:
        time.sleep(injection.delay_ms / 1000)
    try:
        if injection.status is not None:
            raise tokens.OAuthError(injection.status, "server_error", "Injected fault")
        result = _grant_tokens(em, _token_params())
    except tokens.OAuthError as exc:
        response = jsonify({"error": exc.error, "error_description": exc.description})
        response.status_code = exc.status
        return response
    response = jsonify(result)
    response.headers["Cache-Control"] = "no-store"
    return response


def _token_params() -> dict:
    if request.is_json:
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError as exc:
            raise tokens.OAuthError(400, "invalid_request", "The body is not valid JSON") from exc
        if not isinstance(body, dict):
            raise tokens.OAuthError(400, "invalid_request", "The body must be a JSON object")
        params = body
    else:
        params = request.form.to_dict()
    if request.authorization and request.authorization.type == "basic":
        params.setdefault("client_id", request.authorization.username)
        params.setdefault("client_secret", request.authorization.password)
    return params


def _grant_tokens(em: Emulator, params: dict) -> dict:
    client_id = params.get("client_id")
    expected = em.settings["CLIENTS"].get(client_id) if isinstance(client_id, str) else None
    secret = params.get("client_secret")
    if expected is None or not isinstance(secret, str) or not hmac.compare_digest(expected, secret):
        raise tokens.OAuthError(401, "invalid_client", "Unknown client or wrong client_secret")
    grant_type, now, ttl = params.get("grant_type"), em.clock.now(), em.settings["ACCESS_TOKEN_TTL"]
    if grant_type == "authorization_code":
        code = _required(params, "code")
        tokens.redeem_code(em.store, code, client_id, params.get("redirect_uri"), now)
    elif grant_type == "refresh_token":
        tokens.rotate_refresh(em.store, _required(params, "refresh_token"), client_id)
    elif grant_type is None:
        raise tokens.OAuthError(400, "invalid_request", "grant_type is required")
    else:
        raise tokens.OAuthError(
            400, "unsupported_grant_type", f"grant_type {grant_type!r} is not supported"
        )
    return tokens.issue_tokens(em.store, client_id, now, int(ttl))


def _required(params: dict, key: str) -> str:
    value = params.get(key)
    if not isinstance(value, str) or not value:
        raise tokens.OAuthError(400, "invalid_request", f"{key} is required")
    return value
