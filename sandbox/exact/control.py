"""The control API under ``/_control/`` — exists only in the emulator, never at Exact.

JSON in and out, no auth: a test and demo tool. It reads ground truth (state, calls,
token calls, sales entries, documents), moves the clock, changes the rate limits, pays
receivables as a user matching a bank line would, injects faults and resets everything.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask import Blueprint, Response, jsonify, render_template_string, request

from . import faults, receivables
from .clock import parse_datetime
from .emulator import DEFAULTS, current

bp = Blueprint("control", __name__, url_prefix="/_control")
INDEX = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Exact Online sandbox</title>
<style>body{font-family:sans-serif;margin:2rem}td,th{padding:.2rem .6rem;text-align:left}</style>
</head><body><h1>Exact Online sandbox</h1>
<p>User {{ s.user.FullName }} ({{ s.user.Email }}) on start.exactonline.{{ s.country }};
clock {{ s.now }}.</p>
{% for d in s.divisions %}<h2>{{ d.code }} {{ d.description }}</h2>
<p>{{ d.sales_entries }} sales entries.
Journals: {% for j in d.journals %}{{ j.Code }} {{ j.Description }}{{ ", " if not loop.last }}
{% endfor %}</p>
<table><tr><th>code</th><th>account</th><th>status</th></tr>
{% for a in d.accounts %}<tr><td>{{ a.Code }}</td><td>{{ a.Name }}</td><td>{{ a.Status }}</td>
</tr>{% endfor %}</table>{% endfor %}
</body></html>"""


class ControlError(Exception):
    """A bad control request (HTTP 400)."""


@bp.errorhandler(ControlError)
def _control_error(exc: ControlError) -> tuple[Response, int]:
    return jsonify({"error": str(exc)}), 400


def _body() -> dict:
    if not request.get_data().strip():
        return {}
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ControlError("The request body must be a JSON object")
    return body


def _plain(value: object) -> object:
    """Stored values as JSON: GUIDs as strings, datetimes ISO; private keys dropped."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


@bp.get("/")
def index() -> str:
    """A page for the demo: the user, the divisions and their accounts."""
    return render_template_string(INDEX, s=current().describe())


@bp.get("/state")
def state() -> Response:
    """User, divisions with their master data (codes, IDs), clock."""
    return jsonify(current().describe())


@bp.post("/reset")
def reset() -> Response:
    """Reseed everything; the body may override settings (``{"SEED": 7, …}``)."""
    overrides = {k.upper(): v for k, v in _body().items()}
    unknown = sorted(set(overrides) - set(DEFAULTS))
    if unknown:
        raise ControlError(f"Unknown settings: {', '.join(unknown)}")
    current().reset(overrides)
    return jsonify(current().describe())


@bp.route("/clock", methods=["GET", "POST"])
def clock() -> Response:
    """Read the clock, or move it: ``{"advance": seconds}`` or ``{"now": ISO}``; and/or
    ``{"per_call": seconds}``: the step it moves on after every REST call."""
    em, body = current(), _body()
    try:
        if body.get("per_call") is not None:
            per_call = float(body["per_call"])
            if per_call < 0:
                raise ValueError("per_call must not be negative")
            em.clock.per_call = per_call
        if body.get("now") is not None:
            em.clock.set(parse_datetime(str(body["now"])))
        elif body.get("advance") is not None:
            em.clock.advance(float(body["advance"]))
    except (TypeError, ValueError) as exc:
        raise ControlError(f"Bad clock request: {exc}") from exc
    now = em.clock.now()
    return jsonify(
        {"now": now.isoformat(), "timestamp": now.timestamp(), "per_call": em.clock.per_call}
    )


@bp.after_app_request
def _tick(response: Response) -> Response:
    """Time passes after every REST call served (``per_call``): the time a paced client
    spends between calls. Not after a token call — its answer is dated when it is sent, as
    the client dates it when it arrives — nor after control calls or the consent pages."""
    if "/api/v1/" in request.path:
        current().clock.tick()
    return response


@bp.post("/limits")
def limits() -> Response:
    """Change ``{minute_limit?, minute_window?, daily_limit?}`` (counters are kept)."""
    em, body = current(), _body()
    limiter = em.limiter
    try:
        minute_limit = int(body.get("minute_limit", limiter.minute_limit))
        minute_window = float(body.get("minute_window", limiter.minute_window))
        daily_limit = int(body.get("daily_limit", limiter.daily_limit))
    except (TypeError, ValueError) as exc:
        raise ControlError(f"Bad limits: {exc}") from exc
    if minute_window <= 0:
        raise ControlError("minute_window must be positive")
    limiter.configure(minute_limit, minute_window, daily_limit)
    em.settings.update(
        MINUTE_LIMIT=minute_limit, MINUTE_WINDOW=minute_window, DAILY_LIMIT=daily_limit
    )
    return jsonify(
        {"minute_limit": minute_limit, "minute_window": minute_window, "daily_limit": daily_limit}
    )


@bp.route("/calls", methods=["GET", "DELETE"])
def calls() -> Response:
    """Every REST call: ``at`` (epoch s, emulator clock), division, method, path, status."""
    em = current()
    with em.store.lock:
        if request.method == "DELETE":
            em.store.calls.clear()
            return Response(status=204)
        return jsonify([dict(c) for c in em.store.calls])


@bp.route("/tokens", methods=["GET", "DELETE"])
def token_calls() -> Response:
    """Every token-endpoint call: grant, outcome ("ok" or the error), access-token age."""
    em = current()
    with em.store.lock:
        if request.method == "DELETE":
            em.store.token_calls.clear()
            return Response(status=204)
        return jsonify([dict(c) for c in em.store.token_calls])


@bp.get("/sales-entries")
def sales_entries() -> Response:
    """Every sales entry of every division, with its lines, as stored."""
    em = current()
    with em.store.lock:
        out = []
        for division in em.store.divisions.values():
            lines = division.table("salesentry/SalesEntryLines").values()
            for entry in division.table("salesentry/SalesEntries").values():
                own = [line for line in lines if line["EntryID"] == entry["EntryID"]]
                own.sort(key=lambda line: line["LineNumber"])
                out.append(_plain({**entry, "SalesEntryLines": own}))
    return jsonify(out)


@bp.get("/documents")
def documents() -> Response:
    """Every document with its attachments (file name, size, sha256)."""
    em = current()
    with em.store.lock:
        out = []
        for division in em.store.divisions.values():
            files = division.table("documents/DocumentAttachments").values()
            for document in division.table("documents/Documents").values():
                attachments = [
                    {
                        "ID": str(a["ID"]),
                        "FileName": a["FileName"],
                        "size": len(a["_content"]),
                        "sha256": hashlib.sha256(a["_content"]).hexdigest(),
                    }
                    for a in files
                    if a["Document"] == document["ID"]
                ]
                out.append({**_plain(document), "attachments": attachments})
    return jsonify(out)


@bp.post("/receivables/<entry_id>/pay")
def pay(entry_id: str) -> Response:
    """Pay the receivable(s) of a sales entry: ``{"amount"?, "date"?}`` (default: all)."""
    em, body = current(), _body()
    try:
        ident = uuid.UUID(entry_id)
        amount = None if body.get("amount") is None else Decimal(str(body["amount"]))
        when = parse_datetime(str(body["date"])) if body.get("date") else em.clock.now()
    except (ValueError, InvalidOperation) as exc:
        raise ControlError(f"Bad payment: {exc}") from exc
    with em.store.lock:
        for division in em.store.divisions.values():
            rows = receivables.for_entry(division, ident)
            if rows:
                paid = [receivables.pay(rows[0], amount, when)]
                return jsonify(_plain(paid))
    return jsonify({"error": f"No receivable for sales entry {entry_id}"}), 404


@bp.route("/faults", methods=["GET", "POST", "DELETE"])
def manage_faults() -> Response | tuple[Response, int]:
    """POST ``{method?, path_contains?, status = 500, count = 1, body?}``; GET; DELETE."""
    em = current()
    if request.method == "DELETE":
        with em.store.lock:
            em.store.faults.clear()
        return Response(status=204)
    if request.method == "GET":
        with em.store.lock:
            return jsonify([dict(f) for f in em.store.faults])
    body = _body()
    try:
        return jsonify(faults.add(em.store, body)), 201
    except (TypeError, ValueError) as exc:
        raise ControlError(f"Bad fault: {exc}") from exc


@bp.post("/revoke")
def revoke() -> Response:
    """Forget every code and token, as when the user withdraws the app's access."""
    store = current().store
    with store.lock:
        store.codes.clear()
        store.access_tokens.clear()
        store.refresh_tokens.clear()
    return Response(status=204)
