"""OAuth 2.0 on each country host: ``/{country}/api/oauth2/auth`` (the consent page) and
``/{country}/api/oauth2/token`` (reference §1).

The demo user exists only on the COUNTRY host (default ``be``); other hosts say the user is
unknown there and issue no code. The redirect back carries ``code`` URL-encoded (it holds a
'!'); the token endpoint takes form fields and answers ``expires_in`` as a string.

Refusals of a refresh token, as Exact words them: an unknown or revoked one 400
``invalid_grant``, a used one 401 ``unauthorized_client`` "Old refresh token used.", one past
its 30 days 400 ``invalid_request`` "The refresh token expired at …" (``tokens``). A fault
injected on the token endpoint with a JSON body (``/_control/faults``) answers that body with
its status (a ``reason`` key becomes the ``Reason`` header), for the variants nobody knows
the cause of (400 ``invalid_grant`` "Token is not allowed, because of invalid or empty
chainId", websmurf/laravel-exact-online#25).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import (
    Blueprint,
    Response,
    abort,
    jsonify,
    redirect,
    render_template_string,
    request,
    url_for,
)

from . import faults, tokens
from .emulator import COUNTRIES, Emulator, current

bp = Blueprint("oauth", __name__)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Exact Online sandbox – authorize</title>
<style>body{font-family:sans-serif;max-width:36rem;margin:4rem auto}
button{margin-right:1rem}</style>
</head><body><main>
<p><em>Exact Online emulator (sandbox) – {{ host }}</em></p>
{% if user %}
<h1>Allow {{ client_id }} to access Exact Online?</h1>
<p>Signed in as <strong>{{ user }}</strong>. The application gets access to:</p>
<ul>{% for d in divisions %}<li>{{ d.Code }} {{ d.Description }}</li>{% endfor %}</ul>
<form method="post" action="{{ action }}">
{% for key, value in fields.items() %}<input type="hidden" name="{{ key }}" value="{{ value }}">
{% endfor %}<button type="submit" name="decision" value="authorize">Authorize</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
{% else %}
<h1>Unknown user</h1>
<p>The user is unknown on this Exact Online site ({{ host }}). Choose the Exact Online
site of the country where your administration is kept.</p>
{% endif %}
</main></body></html>"""


@dataclass
class Grant:
    """What the token endpoint knows about the request being handled."""

    country: str
    now: datetime
    access_age: float | None = None


def _host(country: str) -> str:
    return f"start.exactonline.{country}"


def _with_query(url: str, **params: str | None) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query) + [(k, v) for k, v in params.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _check_country(country: str) -> None:
    if country not in COUNTRIES:
        abort(404)


def _params(em: Emulator, source) -> dict | Response:
    """Validated authorize parameters, or the response to give instead."""
    keys = ("client_id", "redirect_uri", "response_type", "state", "force_login")
    fields = {k: source.get(k) for k in keys if source.get(k) is not None}
    uri = fields.get("redirect_uri", "")
    if fields.get("client_id") not in em.settings["CLIENTS"]:
        return Response("Unknown client_id\n", 400, mimetype="text/plain")
    if urlsplit(uri).scheme not in ("http", "https") or not urlsplit(uri).netloc:
        return Response("redirect_uri must be an absolute URL\n", 400, mimetype="text/plain")
    if fields.get("response_type") != "code":
        # The implicit grant (response_type=token) exists at Exact but is not emulated.
        state = fields.get("state")
        return redirect(_with_query(uri, error="unsupported_response_type", state=state))
    return fields


@bp.get("/<country>/api/oauth2/auth")
def authorize(country: str) -> Response | str:
    """The login-and-consent page with Authorize and Deny."""
    _check_country(country)
    em = current()
    fields = _params(em, request.args)
    if isinstance(fields, Response):
        return fields
    known = country == em.settings["COUNTRY"]
    with em.store.lock:
        user = em.store.user.get("FullName") if known else None
        divisions = [d.header for d in em.store.divisions.values()]
    return render_template_string(
        PAGE,
        host=_host(country),
        user=user,
        client_id=fields["client_id"],
        divisions=divisions,
        action=url_for("oauth.decide", country=country),
        fields=fields,
    )


@bp.post("/<country>/api/oauth2/auth")
def decide(country: str) -> Response:
    """Redirect back with a code (``decision=authorize``) or ``error=access_denied``."""
    _check_country(country)
    em = current()
    fields = _params(em, request.form)
    if isinstance(fields, Response):
        return fields
    if country != em.settings["COUNTRY"]:
        return Response("The user is unknown on this Exact Online site\n", 403)
    state, uri = fields.get("state"), fields["redirect_uri"]
    if request.form.get("decision") != "authorize":
        return redirect(_with_query(uri, error="access_denied", state=state))
    expires_at = em.clock.now() + timedelta(seconds=em.settings["CODE_TTL"])
    grant = {"client_id": fields["client_id"], "redirect_uri": uri, "country": country}
    code = tokens.issue_code(em.store, {**grant, "expires_at": expires_at})
    return redirect(_with_query(uri, code=code, state=state))


@bp.post("/<country>/api/oauth2/token")
def token(country: str) -> Response:
    """Exchange a code or a refresh token for a new token pair."""
    _check_country(country)
    em, params = current(), request.form.to_dict()
    ctx = Grant(country, em.clock.now())
    fault = faults.take(em.store, "POST", request.path)
    try:
        if fault is not None:
            raise _injected(fault)
        result = _grant(em, params, ctx)
    except tokens.OAuthError as exc:
        _log(em, params, exc.error, ctx)
        response = jsonify({"error": exc.error, "error_description": exc.description})
        response.status_code = exc.status
        response.headers.update(exc.headers)
        return response
    _log(em, params, "ok", ctx)
    response = jsonify(result)
    response.headers["Cache-Control"] = "no-store"
    return response


def _injected(fault: dict) -> tokens.OAuthError:
    """The refusal an injected fault stands for: its JSON body, else a server error."""
    body = fault["body"] if isinstance(fault["body"], dict) else {}
    return tokens.OAuthError(
        fault["status"],
        str(body.get("error") or "server_error"),
        str(body.get("error_description") or "Injected fault"),
        reason=str(body.get("reason") or ""),
    )


def _grant(em: Emulator, params: dict, ctx: Grant) -> dict:
    client_id, secret = params.get("client_id", ""), params.get("client_secret", "")
    expected = em.settings["CLIENTS"].get(client_id)
    if expected is None or not hmac.compare_digest(expected, secret):
        raise tokens.OAuthError(400, "invalid_client", "Invalid client credentials.")
    grant_type = params.get("grant_type")
    if grant_type == "authorization_code":
        code = _required(params, "code")
        tokens.redeem_code(em.store, code, client_id, params.get("redirect_uri"), ctx)
    elif grant_type == "refresh_token":
        refresh = _required(params, "refresh_token")
        tokens.rotate_refresh(em.store, refresh, client_id, ctx, em.settings)
    else:
        raise tokens.OAuthError(400, "unsupported_grant_type", "Unsupported grant_type.")
    ttl = int(em.settings["ACCESS_TOKEN_TTL"])
    return tokens.issue_tokens(em.store, client_id, ctx.country, ctx.now, ttl)


def _required(params: dict, key: str) -> str:
    value = params.get(key)
    if not value:
        raise tokens.OAuthError(400, "invalid_request", f"{key} is required.")
    return value


def _log(em: Emulator, params: dict, outcome: str, ctx: Grant) -> None:
    age = None if ctx.access_age is None else round(ctx.access_age, 3)
    entry = {"at": ctx.now.timestamp(), "country": ctx.country, "outcome": outcome}
    entry.update(grant=params.get("grant_type"), access_token_age=age)
    with em.store.lock:
        em.store.token_calls.append(entry)
