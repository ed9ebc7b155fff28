"""The REST API: ``/{country}/api/v1/current/Me`` and ``/{country}/api/v1/{division}/…``.

Every call passes, in order: the Bearer token (401), the division (403 ``Reason:
NoDivisionAccess``), the rate limiter (429; the ``X-RateLimit-*`` headers go on every
answer from here on), injected faults, then the entity set. Without ``Accept:
application/json`` the answer is Atom XML. Each call is logged for ``/_control/calls``.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, jsonify, request

from . import accounts, documents, errors, faults, payload, render, sales, tokens
from .context import Context
from .emulator import COUNTRIES, Emulator, current
from .entities import ME, NAVIGATION, Entity, lookup
from .errors import ExactError
from .query import Query

bp = Blueprint("api", __name__)
RESOURCE = re.compile(
    r"^(?P<path>[A-Za-z]+/[A-Za-z]+)(?:\((?P<key>[^)]*)\))?(?:/(?P<nav>\$count|[A-Za-z]+))?$"
)
SAFE = "$'(),"  # left readable in __next, as Exact writes $skiptoken=guid'…'
KEY = re.compile(r"^guid'([0-9a-fA-F-]{36})'$|^(\d+)$")
CREATORS = {
    "crm/Accounts": accounts.create,
    "salesentry/SalesEntries": sales.create,
    "documents/Documents": documents.create_document,
    "documents/DocumentAttachments": documents.create_attachment,
}


def _wants_json() -> bool:
    return any(mime == "application/json" and q > 0 for mime, q in request.accept_mimetypes)


def _api_root(country: str) -> str:
    return f"{request.url_root}{country}/api/v1/"


@bp.route("/<country>/api/v1/current/Me")
def me(country: str) -> Response:
    """The signed-in user, a single record wrapped in ``results``."""
    return _handle(country, None, lambda em, division: _me(em, country))


@bp.route(
    "/<country>/api/v1/<int:division>/<path:resource>",
    methods=["GET", "POST", "PUT", "DELETE"],
)
def entity_set(country: str, division: int, resource: str) -> Response:
    """Any entity set of a division."""
    return _handle(country, division, lambda em, d: _resource(em, country, d, resource))


def _handle(country: str, division_code: int | None, handler) -> Response:
    em = current()
    if country not in COUNTRIES:
        return _error(errors.not_found())
    now = em.clock.now()
    auth = request.headers.get("Authorization", "")
    grant = None
    if auth[:7].lower() == "bearer ":
        grant = tokens.authenticate(em.store, auth[7:].strip(), country, now)
    if grant is None:
        error = ExactError(401, "Unauthorized", {"WWW-Authenticate": "Bearer"})
        return _logged(em, division_code, _error(error))
    with em.store.lock:
        code = em.store.user["CurrentDivision"] if division_code is None else division_code
        division = em.store.divisions.get(code)
    if division is None:
        error = ExactError(403, "Forbidden", {"Reason": "NoDivisionAccess"})
        return _logged(em, division_code, _error(error))
    verdict = em.limiter.hit((grant["client_id"], code), em.clock.timestamp())
    if not verdict.allowed:
        error = ExactError(429, "API rate limit exceeded.", verdict.headers)
        return _logged(em, code, _error(error))
    response = _answer(em, division, handler)
    response.headers.update(verdict.headers)
    return _logged(em, code, response)


def _answer(em: Emulator, division, handler) -> Response:
    """An injected fault's answer, or the handler's; API errors in Exact's envelope."""
    try:
        fault = faults.take(em.store, request.method, request.path)
        if fault is not None and isinstance(fault["body"], dict):
            response = jsonify(fault["body"])
            response.status_code = fault["status"]
            return response
        if fault is not None:
            raise ExactError(fault["status"], fault["body"] or faults.GENERIC)
        return handler(em, division)
    except ExactError as exc:
        return _error(exc)


def _logged(em: Emulator, division: int | None, response: Response) -> Response:
    entry = {"at": round(em.clock.timestamp(), 3), "division": division}
    entry.update(method=request.method, path=request.full_path.rstrip("?"))
    entry["status"] = response.status_code
    with em.store.lock:
        em.store.calls.append(entry)
    return response


def _error(exc: ExactError) -> Response:
    if exc.plain:
        response = Response(str(exc), status=exc.status, mimetype="text/plain")
    elif _wants_json():
        response = jsonify(exc.body())
        response.status_code = exc.status
    else:
        response = render.atom_error(str(exc), exc.status)
    response.headers.update(exc.headers)
    return response


def _me(em: Emulator, country: str) -> Response:
    now = em.clock.now()
    with em.store.lock:
        row = {**ME.blank(), **em.store.user}
    row["ServerTime"] = now.strftime("%Y-%m-%dT%H:%M:%S")
    row["ServerUtcOffset"] = 0
    row["PictureUrl"] = f"{request.url_root}{country}/docs/images/placeholder_contact_myeol.png"
    return _listing(ME, [row], f"{_api_root(country)}current/Me")


def _resource(em: Emulator, country: str, division, resource: str) -> Response:
    match = RESOURCE.match(resource)
    entity = lookup(match.group("path")) if match else None
    if entity is None:
        raise errors.not_found()
    collection = f"{_api_root(country)}{division.code}/{entity.path}"
    key, nav = match.group("key"), match.group("nav")
    if request.method == "POST" and key is None and nav is None:
        if "POST" not in entity.methods:
            raise ExactError(405, "Method not allowed")
        return _create(em, country, division, entity, collection)
    if request.method != "GET":
        raise ExactError(405, "Method not allowed")
    with em.store.lock:
        rows = _rows(em, division, entity)
        if key is not None:
            row = _by_key(rows, entity, key)
            if nav is None:
                return _single(entity, row, collection)
            child_path, foreign = NAVIGATION.get((entity.path, nav), (None, None))
            if child_path is None:
                raise errors.not_found()
            parent_key, entity = row[entity.key], lookup(child_path)
            rows = [r for r in division.table(child_path).values() if r[foreign] == parent_key]
            collection = f"{_api_root(country)}{division.code}/{child_path}"
        elif nav == "$count":
            query = Query.parse(request.args, entity)
            return Response(str(len(query.matching(rows))), mimetype="text/plain")
        elif nav is not None:
            raise errors.not_found()
        return _listing(entity, rows, collection)


def _rows(em: Emulator, division, entity: Entity) -> list[dict]:
    if entity.path == "system/Divisions":
        return [d.header for d in em.store.divisions.values()]
    return list(division.table(entity.path).values())


def _by_key(rows: list[dict], entity: Entity, text: str) -> dict:
    match = KEY.match(text.strip())
    if match is None:
        raise errors.query_syntax()
    key = uuid.UUID(match.group(1)) if match.group(1) else int(match.group(2))
    row = next((r for r in rows if r[entity.key] == key), None)
    if row is None:
        raise errors.not_found()
    return row


def _listing(entity: Entity, rows: list[dict], collection: str) -> Response:
    query = Query.parse(request.args, entity)
    matching = query.matching(rows)
    page, following = query.page(matching, current().settings["PAGE_SIZE"])
    next_url = None
    if following is not None:
        args = [(k, v) for k, v in request.args.items(multi=True) if k not in following]
        query_string = urlencode(args + list(following.items()), quote_via=quote, safe=SAFE)
        next_url = f"{request.base_url}?{query_string}"
    if not _wants_json():
        now = current().clock.now()
        return render.atom_feed(entity, page, collection, query.select, next_url, now)
    body: dict = {}
    if query.inlinecount:
        body["__count"] = str(len(matching))
    body["results"] = [render.record(entity, r, collection, query.select) for r in page]
    if next_url:
        body["__next"] = next_url
    return jsonify({"d": body})


def _single(entity: Entity, row: dict, collection: str, status: int = 200) -> Response:
    select = Query.parse(request.args, entity).select
    if not _wants_json():
        return render.atom_entry(entity, row, collection, select, status)
    response = jsonify({"d": render.record(entity, row, collection, select)})
    response.status_code = status
    return response


def _create(em: Emulator, country: str, division, entity: Entity, collection: str) -> Response:
    values = payload.convert(entity, payload.read_body(request.get_data()))
    site_root = f"{request.url_root}{country}/"
    with em.store.lock:
        ctx = Context(division, em.clock.now(), em.store.user, site_root)
        row = CREATORS[entity.path](ctx, values)
        if request.headers.get("Prefer", "").replace(" ", "") != "return=representation":
            # Without the header Exact fills in only the key (fixture accounts-post-…).
            row = {entity.key: row[entity.key]}
        response = _single(entity, row, collection, status=201)
    response.headers["Location"] = f"{collection}({entity.key_literal(row[entity.key])})"
    return response
