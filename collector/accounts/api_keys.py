"""API keys: created with a name, scopes and an optional last day, shown once, listed by
their prefix, revoked. Creating and revoking one is written to the audit log in the same
transaction."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _

from collector.accounts import audit
from collector.accounts.models import ApiKey
from collector.accounts.models.api_key import SCOPES, hash_key
from collector.core import clock
from collector.core.columns import utcnow
from collector.core.errors import Conflict, Invalid, NotFound
from collector.extensions import db

MAX_NAME = 100
LAST_USED_STEP = timedelta(minutes=1)
ACTIVE, EXPIRED, REVOKED = "active", "expired", "revoked"


def create_api_key(
    name: str,
    scopes: Iterable[str] | None = None,
    expires_on: date | None = None,
    *,
    actor: str | None = None,
) -> tuple[ApiKey, str]:
    """Create a key (all scopes when none are named); return the row and the key itself,
    which is never stored and cannot be shown again."""
    name = (name or "").strip()
    chosen = list(SCOPES) if scopes is None else [s for s in SCOPES if s in set(scopes)]
    errors: dict[str, list[str]] = {}
    if not name or len(name) > MAX_NAME:
        errors["name"] = [_("A name of 1 to %(max)d characters is required.", max=MAX_NAME)]
    unknown = sorted(set(scopes or ()) - set(SCOPES))
    if unknown:
        errors["scopes"] = [_("Unknown scope: %(scope)s.", scope=", ".join(unknown))]
    elif not chosen:
        errors["scopes"] = [_("Choose at least one scope.")]
    if expires_on is not None and expires_on < clock.local_today():
        errors["expires_on"] = [_("The last day cannot be in the past.")]
    if errors:
        raise Invalid(errors)
    secret = secrets.token_urlsafe(32)
    plain = f"ck_{secret}"
    key = ApiKey(
        name=name,
        prefix=f"ck_{secret[:8]}",
        key_hash=hash_key(plain),
        scopes=chosen,
        expires_on=expires_on,
    )
    db.session.add(key)
    db.session.flush()
    audit.record(
        "api_key.created",
        target=f"api_key:{key.id}",
        details={
            "name": name,
            "prefix": key.prefix,
            "scopes": chosen,
            "expires_on": _iso(expires_on),
        },
        actor=actor,
    )
    db.session.commit()
    return key, plain


def revoke_api_key(key_id: int) -> ApiKey:
    """Revoke a key for good: every call with it is refused from now on."""
    key = db.session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(_("No API key with this id."))
    if key.revoked_at is not None:
        raise Conflict(_("This key was already revoked."))
    key.revoked_at = utcnow()
    audit.record(
        "api_key.revoked",
        target=f"api_key:{key.id}",
        details={"name": key.name, "prefix": key.prefix},
    )
    db.session.commit()
    return key


@dataclass(frozen=True)
class Listed:
    key: ApiKey
    state: str


def list_api_keys() -> list[Listed]:
    """Every key, live ones first, newest first within each, with its state today."""
    today = clock.local_today()
    keys = db.session.scalars(
        db.select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    )
    listed = [Listed(key, state_of(key, today)) for key in keys]
    return sorted(listed, key=lambda row: row.state != ACTIVE)


def state_of(key: ApiKey, today: date) -> str:
    if key.revoked_at is not None:
        return REVOKED
    return EXPIRED if key.expired(today) else ACTIVE


def find_key(plain: str) -> ApiKey | None:
    """The key whose hash matches ``plain``, live or not (the caller tells which)."""
    if not plain or not plain.startswith("ck_"):
        return None
    query = db.select(ApiKey).filter_by(key_hash=hash_key(plain))
    return db.session.execute(query).scalar_one_or_none()


def key_for(plain: str) -> ApiKey | None:
    """The live API key matching ``plain`` (not revoked, not expired), or None; records
    its use."""
    key = find_key(plain)
    if key is None or state_of(key, clock.local_today()) != ACTIVE:
        return None
    mark_used(key)
    return key


def mark_used(key: ApiKey) -> None:
    """Remember when a key was last used, to the minute: a write per API call would only
    add load."""
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_STEP:
        key.last_used_at = now
        db.session.commit()


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
