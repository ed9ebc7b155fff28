"""Each company entity (a Teamleader department) collects as itself: its own creditor —
name, account, creditor identifier, address, logo, contact details, mail sender — used on
its documents' mails, payment pages, pre-notifications and pain.008 files. An entity
without a creditor of its own uses the company default (the row without a department).

Department names come from Teamleader (``teamleader.connection.department_names``); the
callers pass them in, so this module stays below the Teamleader domain.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from collector.accounts import audit, creditor_details
from collector.accounts.creditor import default
from collector.accounts.models import Creditor
from collector.core.errors import NotFound
from collector.core.storage import DocumentStore
from collector.extensions import db


@dataclass(frozen=True)
class Entity:
    """One company entity as the settings list it: its Teamleader id and name, and the
    creditor it collects as (its own, or the default's when ``own`` is False)."""

    department_id: str
    name: str
    creditor: Creditor | None
    own: bool


def own(department_id: str | None) -> Creditor | None:
    """The entity's own creditor, or None (then it collects as the company default)."""
    if not department_id:
        return None
    query = sa.select(Creditor).where(Creditor.department_id == department_id)
    return db.session.scalars(query).first()


def creditor_of(department_id: str | None) -> Creditor | None:
    """Who collects a document of ``department_id``: the entity's own creditor, else the
    company default; None when neither exists. Never writes."""
    return own(department_id) or default()


def payee_name(payee: Creditor | None, names: dict[str, str], department_id: str | None) -> str:
    """The name a customer sees: the creditor's, else the entity's name in Teamleader, else
    the first entity's."""
    if payee is not None and payee.name:
        return payee.name
    return names.get(department_id or "", next(iter(names.values()), ""))


def sender_of(payee: Creditor | None, fallback: str) -> str:
    """The From of a customer mail: the creditor's sender ("Name <address>"), else
    ``fallback`` (the service's MAIL_FROM)."""
    if payee is None or not payee.sender_email:
        return fallback
    if not payee.sender_name:
        return payee.sender_email
    quoted = payee.sender_name.replace("\\", "").replace('"', "")
    return f'"{quoted}" <{payee.sender_email}>'


def listing(names: dict[str, str]) -> list[Entity]:
    """Every entity Teamleader names, and any with a creditor of its own, by name."""
    rows = db.session.scalars(sa.select(Creditor).where(Creditor.department_id.isnot(None)))
    owned = {row.department_id: row for row in rows}
    fallback = default()
    ids = set(names) | set(owned)
    found = [
        Entity(i, names.get(i, i), owned.get(i) or fallback, i in owned)
        for i in sorted(ids, key=lambda i: (names.get(i, i).lower(), i))
    ]
    return found


def find(department_id: str, names: dict[str, str]) -> Entity:
    """One entity of the listing; raises ``NotFound`` for an id no one knows."""
    for entity in listing(names):
        if entity.department_id == department_id:
            return entity
    raise NotFound(f"There is no company entity {department_id}.")


def use_default(department_id: str) -> bool:
    """Forget the entity's own creditor: it collects as the company default again. Commits;
    False when it had none."""
    row = own(department_id)
    if row is None:
        return False
    db.session.delete(row)
    audit.record(
        "settings.changed",
        target=f"department:{department_id}",
        details={"area": "entity", "own_creditor": False},
    )
    db.session.commit()
    return True


def set_logo(payee: Creditor, content: bytes, store: DocumentStore) -> Creditor:
    """Store ``content`` as the creditor's logo; raises ``creditor_details.LogoRefused``
    (nothing stored) for anything but a small PNG or JPEG. Commits."""
    media_type = creditor_details.logo_type(content)
    payee.logo_key, payee.logo_type = store.put(content), media_type
    _record_logo(payee, media_type)
    db.session.commit()
    return payee


def remove_logo(payee: Creditor) -> Creditor:
    """The creditor shows no logo any more. Commits."""
    payee.logo_key = payee.logo_type = None
    _record_logo(payee, None)
    db.session.commit()
    return payee


def _record_logo(payee: Creditor, media_type: str | None) -> None:
    target = f"department:{payee.department_id}" if payee.department_id else ""
    audit.record("settings.changed", target=target, details={"area": "logo", "logo": media_type})


def logo(payee: Creditor | None, store: DocumentStore) -> tuple[bytes, str] | None:
    """The logo's bytes and media type, or None when there is none."""
    if payee is None or not payee.logo_key or not store.exists(payee.logo_key):
        return None
    return store.get(payee.logo_key), payee.logo_type or "image/png"
