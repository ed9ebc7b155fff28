"""Payment profiles: create, change and delete them under the business rules."""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from collector.accounts import audit, audit_changes
from collector.core.errors import Conflict, Invalid
from collector.documents import signals
from collector.documents.models import Customer, Invoice, Profile
from collector.extensions import db

FIELDS = (
    "name",
    "allow_direct_debit",
    "allow_b2b_mandates",
    "allow_payment_link",
    "allow_bank_transfer",
    "send_invitation_on_import",
    "invitation_requires_pdf",
)


@dataclass(frozen=True)
class Usage:
    customers: int
    documents: int

    @property
    def in_use(self) -> bool:
        return bool(self.customers or self.documents)


def list_profiles() -> list[Profile]:
    """All profiles by name."""
    return list(db.session.execute(db.select(Profile).order_by(Profile.name)).scalars())


def create_profile(data: dict) -> Profile:
    """Create a profile from already-parsed ``data`` (see ``FIELDS``)."""
    profile = Profile()
    return _save(profile, data)


def update_profile(profile: Profile, data: dict) -> Profile:
    """Change ``profile``; keys absent from ``data`` keep their value."""
    return _save(profile, data)


def profile_usage(profile: Profile) -> Usage:
    """How many customers and documents point at ``profile``."""
    count = sa.func.count()
    customers = db.session.scalar(db.select(count).where(Customer.profile_id == profile.id))
    documents = db.session.scalar(db.select(count).where(Invoice.profile_id == profile.id))
    return Usage(customers=customers, documents=documents)


def delete_profile(profile: Profile) -> None:
    """Delete ``profile``, refused while customers or documents use it."""
    signals.send(signals.profile_deleting, profile)
    usage = profile_usage(profile)
    if usage.in_use:
        raise Conflict(
            f"Profile “{profile.name}” is used by {usage.customers} customer(s) and "
            f"{usage.documents} document(s); move them to another profile first."
        )
    audit.record("profile.deleted", target=f"profile:{profile.id}", details={"name": profile.name})
    db.session.delete(profile)
    db.session.commit()


def _save(profile: Profile, data: dict) -> Profile:
    unknown = set(data) - set(FIELDS)
    if unknown:
        raise Invalid({name: ["Unknown field."] for name in sorted(unknown)})
    merged = {name: data.get(name, getattr(profile, name)) for name in FIELDS}
    merged["name"] = (merged["name"] or "").strip()
    errors = _check(profile, merged)
    if errors:
        raise Invalid(errors)
    new = profile.id is None
    before = audit_changes.snapshot(profile, FIELDS)
    for name, value in merged.items():
        setattr(profile, name, value)
    db.session.add(profile)
    try:
        db.session.flush()
        if new:
            details = audit_changes.snapshot(profile, FIELDS)
            audit.record("profile.created", target=f"profile:{profile.id}", details=details)
        else:
            target = f"profile:{profile.id}"
            audit_changes.record_changes("profile.changed", before, profile, target=target)
        db.session.commit()
    except IntegrityError as exc:  # two requests racing for the same name
        db.session.rollback()
        raise Invalid({"name": ["A profile with this name already exists."]}) from exc
    return profile


def _check(profile: Profile, data: dict) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not data["name"]:
        errors["name"] = ["A name is required."]
    elif len(data["name"]) > 100:
        errors["name"] = ["At most 100 characters."]
    elif _name_taken(data["name"], profile.id):
        errors["name"] = ["A profile with this name already exists."]
    methods = ("allow_direct_debit", "allow_payment_link", "allow_bank_transfer")
    if not any(data[m] for m in methods):
        errors["allow_bank_transfer"] = ["Allow at least one way to pay."]
    if data["invitation_requires_pdf"] and not data["send_invitation_on_import"]:
        errors["invitation_requires_pdf"] = ["Only applies when invitations are sent on import."]
    return errors


def _name_taken(name: str, own_id: int | None) -> bool:
    query = db.select(Profile.id).where(sa.func.lower(Profile.name) == name.lower())
    if own_id is not None:
        query = query.where(Profile.id != own_id)
    return db.session.execute(query).first() is not None
