"""The callback URLs admins register for outbound status callbacks (DESIGN §1.10):
adding, changing, switching off and deleting them, and what each one was sent.

Delivering is ``documents.callbacks``; the secret made here signs every POST.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from collector.accounts import audit, audit_changes
from collector.core.crypto import TokenCipher
from collector.core.errors import Invalid
from collector.core.outbound import OutboundGuard, OutboundRefused, Unresolved
from collector.documents.callbacks import OPEN
from collector.documents.models import CallbackDelivery, CallbackEndpoint, CallbackStatus
from collector.extensions import db
from collector.runtime import doorbell

MAX_URL = 500
MAX_DESCRIPTION = 200
NOT_PUBLIC = "Callbacks go to public addresses only: %(reason)s"


@dataclass(frozen=True)
class EndpointOverview:
    """One line of the endpoints list: the endpoint, its deliveries per status, the last."""

    endpoint: CallbackEndpoint
    counts: dict[str, int] = field(default_factory=dict)
    last: CallbackDelivery | None = None

    @property
    def delivered(self) -> int:
        return self.counts.get(CallbackStatus.DELIVERED.value, 0)

    @property
    def owed(self) -> int:
        return sum(self.counts.get(status.value, 0) for status in OPEN)

    @property
    def failed(self) -> int:
        return self.counts.get(CallbackStatus.FAILED.value, 0)


def add_endpoint(
    url: str, description: str, user, cipher: TokenCipher, guard: OutboundGuard | None = None
) -> tuple[CallbackEndpoint, str]:
    """Register ``url``; returns the endpoint and its signing secret (shown once). Commits.
    ``guard`` refuses a URL naming an internal address (each delivery checks it again)."""
    url, description = (url or "").strip(), (description or "").strip()
    errors = {**_url_errors(url, guard or OutboundGuard()), **_description_errors(description)}
    if errors:
        raise Invalid(errors)
    secret = _new_secret()
    endpoint = CallbackEndpoint(
        url=url,
        description=description,
        secret_enc=cipher.encrypt(secret),
        active=True,
        created_by_id=getattr(user, "id", None),
    )
    db.session.add(endpoint)
    db.session.flush()
    _record("callback_endpoint.created", endpoint, url=_shown_url(url), description=description)
    db.session.commit()
    return endpoint, secret


def update_endpoint(
    endpoint: CallbackEndpoint, *, description: str | None = None, active: bool | None = None
) -> CallbackEndpoint:
    """Change the description and/or switch the endpoint on or off. Commits."""
    before = audit_changes.snapshot(endpoint, ("description", "active"))
    if description is not None:
        description = description.strip()
        errors = _description_errors(description)
        if errors:
            raise Invalid(errors)
        endpoint.description = description
    if active is not None and active != endpoint.active:
        endpoint.active = active
        if active:
            # Deliveries held while it was off may be due already.
            doorbell.wake(doorbell.CALLBACKS)
    target = f"callback_endpoint:{endpoint.id}"
    audit_changes.record_changes("callback_endpoint.changed", before, endpoint, target=target)
    db.session.commit()
    return endpoint


def rotate_secret(endpoint: CallbackEndpoint, cipher: TokenCipher) -> str:
    """Give ``endpoint`` a new secret and return it; owed deliveries are signed with it."""
    secret = _new_secret()
    endpoint.secret_enc = cipher.encrypt(secret)
    _record("callback_endpoint.changed", endpoint, fields=["signing key"])
    db.session.commit()
    return secret


def delete_endpoint(endpoint: CallbackEndpoint) -> None:
    """Delete ``endpoint`` and its delivery log. Commits."""
    _record("callback_endpoint.deleted", endpoint, url=_shown_url(endpoint.url))
    db.session.delete(endpoint)
    db.session.commit()


def _record(action: str, endpoint: CallbackEndpoint, **details) -> None:
    audit.record(action, target=f"callback_endpoint:{endpoint.id}", details=details)


def _shown_url(url: str) -> str:
    """The URL without its query or user part, which may carry the receiver's own token."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def list_endpoints() -> list[EndpointOverview]:
    """Every endpoint, oldest first, with its delivery counts and last delivery."""
    endpoints = db.session.scalars(sa.select(CallbackEndpoint).order_by(CallbackEndpoint.id)).all()
    counts: dict[int, dict[str, int]] = {}
    rows = db.session.execute(
        sa.select(CallbackDelivery.endpoint_id, CallbackDelivery.status, sa.func.count()).group_by(
            CallbackDelivery.endpoint_id, CallbackDelivery.status
        )
    )
    for endpoint_id, status, n in rows:
        counts.setdefault(endpoint_id, {})[status.value] = n
    newest = sa.select(sa.func.max(CallbackDelivery.id)).group_by(CallbackDelivery.endpoint_id)
    last = {
        d.endpoint_id: d
        for d in db.session.scalars(
            sa.select(CallbackDelivery).where(CallbackDelivery.id.in_(newest))
        )
    }
    return [EndpointOverview(e, counts.get(e.id, {}), last.get(e.id)) for e in endpoints]


def endpoint_deliveries(endpoint_id: int, limit: int = 100) -> list[CallbackDelivery]:
    """The delivery log of one endpoint, newest first."""
    return list(
        db.session.scalars(
            sa.select(CallbackDelivery)
            .options(joinedload(CallbackDelivery.invoice))
            .where(CallbackDelivery.endpoint_id == endpoint_id)
            .order_by(CallbackDelivery.id.desc())
            .limit(limit)
        )
    )


def failed_deliveries(limit: int = 50) -> list[CallbackDelivery]:
    """Deliveries given up on, newest first: sync problems for a person to look at."""
    return list(
        db.session.scalars(
            sa.select(CallbackDelivery)
            .options(joinedload(CallbackDelivery.endpoint), joinedload(CallbackDelivery.invoice))
            .where(CallbackDelivery.status == CallbackStatus.FAILED)
            .order_by(CallbackDelivery.id.desc())
            .limit(limit)
        )
    )


def _url_errors(url: str, guard: OutboundGuard) -> dict[str, list[str]]:
    problem = _url_problem(url) or _address_problem(url, guard)
    return {"url": [problem]} if problem else {}


def _address_problem(url: str, guard: OutboundGuard) -> str | None:
    """Why the guard refuses ``url``; a name that does not resolve yet is accepted (DNS may
    follow the registration, and every delivery checks again)."""
    try:
        guard.check(url)
    except Unresolved:
        return None
    except OutboundRefused as refused:
        return NOT_PUBLIC % {"reason": refused.reason}
    return None


def _url_problem(url: str) -> str | None:
    if not url:
        return "Enter the address to send the callbacks to."
    if len(url) > MAX_URL:
        return f"At most {MAX_URL} characters."
    if any(c.isspace() or ord(c) < 32 for c in url):
        return "An address cannot contain spaces or control characters."
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        return "Use an http:// or https:// address."
    try:
        parts.port  # noqa: B018 — parsing it is the check
    except ValueError:
        return "The port is not a number between 0 and 65535."
    if not parts.hostname:
        return "The address needs a host name."
    if parts.username is not None or parts.password is not None:
        # It would be sent in the clear on every call; the signature authenticates us.
        return "Leave the user name and password out of the address."
    return None


def _description_errors(description: str) -> dict[str, list[str]]:
    if len(description) > MAX_DESCRIPTION:
        return {"description": [f"At most {MAX_DESCRIPTION} characters."]}
    return {}


def _new_secret() -> str:
    return secrets.token_urlsafe(32)
