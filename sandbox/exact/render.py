"""Records on the wire: OData v2 JSON (``{"d": …}``) and the Atom XML Exact answers to a
client that does not ask for JSON.

JSON: ``__metadata {uri, type}`` first, Guids as strings, dates ``/Date(ms)/``, amounts JSON
numbers, related collections ``{"__deferred": {"uri": …}}``.
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

from flask import Response
from flask.json.provider import DefaultJSONProvider

from .clock import json_date
from .entities import Entity

NS = (
    'xmlns="http://www.w3.org/2005/Atom" '
    'xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" '
    'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"'
)
SCHEME = "http://schemas.microsoft.com/ado/2007/08/dataservices/scheme"


class ExactJSONProvider(DefaultJSONProvider):
    """Amounts as JSON numbers (Edm.Double), keys in record order."""

    sort_keys = False

    @staticmethod
    def default(o: object) -> object:
        """Serialise ``Decimal`` (money inside the emulator) as a number."""
        if isinstance(o, Decimal):
            return int(o) if o == o.to_integral_value() else float(o)
        return DefaultJSONProvider.default(o)


def wire(value: object) -> object:
    """One property value as JSON carries it."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return json_date(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def names(entity: Entity, select: list[str] | None) -> list[str]:
    """The properties to render, in the entity's order."""
    if not select or "*" in select:
        return list(entity.fields)
    return [n for n in entity.fields if n in select]


def record(entity: Entity, row: dict, collection_uri: str, select=None) -> dict:
    """One record with ``__metadata`` and ``__deferred`` links."""
    uri = f"{collection_uri}({entity.key_literal(row[entity.key])})"
    out: dict = {"__metadata": {"uri": uri, "type": entity.odata_type}}
    for name in names(entity, select):
        if name in entity.deferred:
            out[name] = {"__deferred": {"uri": f"{uri}/{name}"}}
        else:
            out[name] = wire(row.get(name))
    return out


def _xml_value(name: str, edm: str, value: object) -> str:
    if value is None:
        return f'<d:{name} m:null="true" />'
    if isinstance(value, datetime):
        text = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(wire(value))
    kind = "" if edm == "String" else f' m:type="Edm.{edm.replace("Byte[]", "Binary")}"'
    return f"<d:{name}{kind}>{escape(text)}</d:{name}>"


def _entry(entity: Entity, row: dict, collection_uri: str, select) -> str:
    uri = f"{collection_uri}({entity.key_literal(row[entity.key])})"
    props, links = [], []
    for name in names(entity, select):
        if name in entity.deferred:
            href = quoteattr(f"{uri}/{name}")
            links.append(f'<link rel="related" title={quoteattr(name)} href={href} />')
        else:
            props.append(_xml_value(name, entity.type_of(name), row.get(name)))
    return (
        f"<entry><id>{escape(uri)}</id>"
        f'<category term={quoteattr(entity.odata_type)} scheme="{SCHEME}" />'
        f'<link rel="edit" href={quoteattr(uri)} />{"".join(links)}'
        f'<content type="application/xml"><m:properties>{"".join(props)}'
        f"</m:properties></content></entry>"
    )


def atom_feed(entity, rows, collection_uri, select, next_url, now: datetime) -> Response:
    """A list as an Atom feed (``application/atom+xml``)."""
    title = entity.path.split("/")[-1]
    updated = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    entries = "".join(_entry(entity, r, collection_uri, select) for r in rows)
    more = f'<link rel="next" href={quoteattr(next_url)} />' if next_url else ""
    body = (
        f'<?xml version="1.0" encoding="utf-8"?><feed xml:base={quoteattr(collection_uri)} {NS}>'
        f'<title type="text">{title}</title><id>{escape(collection_uri)}</id>'
        f"<updated>{updated}</updated>{entries}{more}</feed>"
    )
    return Response(body, content_type="application/atom+xml;type=feed;charset=utf-8")


def atom_entry(entity, row, collection_uri, select, status=200) -> Response:
    """A single record as an Atom entry."""
    entry = _entry(entity, row, collection_uri, select).replace("<entry>", f"<entry {NS}>", 1)
    body = f'<?xml version="1.0" encoding="utf-8"?>{entry}'
    return Response(body, status, content_type="application/atom+xml;type=entry;charset=utf-8")


def atom_error(message: str, status: int) -> Response:
    """An error for a client that did not ask for JSON."""
    body = (
        '<?xml version="1.0" encoding="utf-8"?><m:error xmlns:m='
        '"http://schemas.microsoft.com/ado/2007/08/dataservices/metadata">'
        f'<m:code /><m:message xml:lang="">{escape(message)}</m:message></m:error>'
    )
    return Response(body, status, content_type="application/xml;charset=utf-8")
