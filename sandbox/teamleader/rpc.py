"""The RPC endpoint ``/<resource>.<action>``: faults, auth, rate limit, dispatch.

Order per request: count the call; apply injected latency; find the caller's grant;
answer an injected 5xx/429 if one is due; count against the rate limit (429 past it);
404 for an unknown method; 401 without a valid Bearer token; then the handler. Every
answer, errors included, carries the ``X-RateLimit-*`` headers (reference §4).
"""

from __future__ import annotations

import json
import re
import time

from flask import Blueprint, Response, jsonify, request, url_for

from . import faults, methods_account, methods_crm, methods_invoices, tokens  # noqa: F401 - register methods
from .emulator import Emulator, current
from .errors import ApiError
from .ratelimit import Verdict
from .registry import METHODS, Call, readable_by_get

bp = Blueprint("rpc", __name__)
# Latest dated API version in the Blueprint (reference §2); a client may ask for another
# with the X-Api-Version request header, which is echoed back (behaviour does not change).
API_VERSION = "2023-09-26"
INJECTED_TITLES = {429: "Too Many Requests (injected fault)"}


@bp.route("/<name>", methods=["GET", "POST"])
def call(name: str) -> Response:
    """Run one RPC method."""
    em = current()
    with em.store.lock:
        em.store.calls[name] += 1
    injection = faults.take(em.store, name)
    if injection.delay_ms:
        time.sleep(injection.delay_ms / 1000)
    grant = _grant(em)
    bucket = (
        (grant["client_id"], grant["account_id"]) if grant else ("anonymous", request.remote_addr)
    )
    if injection.status is not None:
        seen = em.limiter.peek(bucket)
        remaining = 0 if injection.status == 429 else seen.remaining
        verdict = Verdict(False, seen.limit, remaining, seen.reset_at)
        title = INJECTED_TITLES.get(injection.status, "Internal Server Error (injected fault)")
        return _error(ApiError(injection.status, title), verdict)
    verdict = em.limiter.hit(bucket)
    if not verdict.allowed:
        with em.store.lock:
            em.store.calls["rate_limited"] += 1  # so tests and benchmarks can count refusals
        # The real 429 body is undocumented (reference §4 [?]); we use the errors shape.
        return _error(ApiError(429, "Too Many Requests: rate limit exceeded"), verdict)
    try:
        result = _dispatch(em, name, grant)
    except ApiError as exc:
        return _error(exc, verdict)
    response = jsonify(result) if result is not None else Response(status=204)
    response.headers.update(_headers(verdict))
    return response


def _dispatch(em: Emulator, name: str, grant: dict | None) -> dict | None:
    handler = METHODS.get(name)
    if handler is None:
        raise ApiError(404, f"Method {name} does not exist")
    if grant is None:
        raise ApiError(401, "Unauthorized: missing, invalid or expired access token")
    if request.method == "GET" and not readable_by_get(name):
        # Only .list/.info keep their deprecated GET form; 404 keeps to documented codes.
        raise ApiError(404, f"Method {name} must be called with POST")
    return handler(Call(em, _body(), grant, _file_url))


def _grant(em: Emulator) -> dict | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return tokens.authenticate(em.store, token.strip(), em.clock.now())


def _headers(verdict: Verdict) -> dict[str, str]:
    requested = request.headers.get("X-Api-Version", "")
    version = requested if re.fullmatch(r"\d{4}-\d{2}-\d{2}", requested) else API_VERSION
    return {**verdict.headers(), "X-Api-Version": version}


def _error(exc: ApiError, verdict: Verdict) -> Response:
    response = jsonify(exc.body())
    response.status_code = exc.status
    response.headers.update(_headers(verdict))
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


def _file_url(token: str) -> str:
    return url_for("files.download", token=token, _external=True)


def _body() -> dict:
    if request.method == "GET":
        return _query_body()
    raw = request.get_data(cache=False)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, "The request body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object")
    return body


def _query_body() -> dict:
    """``filter[status][]=outstanding&page[size]=10`` → nested dict (deprecated GET form)."""
    body: dict = {}
    for key, values in request.args.lists():
        head, _, rest = key.partition("[")
        names = [head, *(re.findall(r"\[([^\]]*)\]", "[" + rest) if rest else [])]
        is_list = names[-1] == ""
        names = names[:-1] if is_list else names
        node = body
        for part in names[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ApiError(400, f"Query parameter {key} conflicts with another")
        value = values[-1]
        node[names[-1]] = values if is_list else (int(value) if value.isdigit() else value)
    return body
