"""Customers follow Teamleader one-to-one: created or refreshed from contacts and companies.

Data flows one way, Teamleader → collector, except the profile, which is chosen here
and never overwritten (a new customer starts on the integration's default). Look-ups
are batched: one ``contacts.list``/``companies.list`` call per 100 ids, never one call
per document.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from collector.core.columns import utcnow
from collector.documents.models import Customer, CustomerKind
from collector.extensions import db
from collector.teamleader import TeamleaderClient

log = logging.getLogger(__name__)

# (kind, Teamleader id): "contact"/"company" and the UUID, as documents link them.
Ref = tuple[str, str]
CHUNK = 100


@dataclass
class CustomerSync:
    """What a sync did: the customers by reference, and how many were new or refreshed."""

    customers: dict[Ref, Customer] = field(default_factory=dict)
    created: int = 0
    updated: int = 0
    missing: list[Ref] = field(default_factory=list)  # not found in Teamleader


def sync_customers(
    client: TeamleaderClient,
    refs: Mapping[Ref, dict | None],
    default_profile_id: int | None,
    *,
    fetched: Mapping[Ref, dict] | None = None,
) -> CustomerSync:
    """Create or refresh the customers ``refs`` name, committing per 100.

    ``refs`` maps each reference to the document's invoicee (``{name, vat_number}``) or
    None; the invoicee stands in when Teamleader no longer has the contact/company.
    ``fetched`` holds records already read (list shape), which are not read again.
    """
    result = CustomerSync()
    for chunk in _chunks_per_kind(refs):
        records = fetched if fetched is not None else _fetch(client, chunk)
        known = _linked_many([ident for _, ident in chunk])
        for ref in chunk:
            record = records.get(ref)
            if record is None:
                result.missing.append(ref)
                record = _from_invoicee(refs.get(ref))
            customer, created = _upsert(ref, record, default_profile_id, known.get(ref[1]))
            result.customers[ref] = customer
            result.created += created
            result.updated += not created
        db.session.commit()
    return result


def _chunks_per_kind(refs: Iterable[Ref]) -> Iterable[list[Ref]]:
    """Hundreds of one kind: a chunk mixing kinds would cost a call of each."""
    for kind in ("company", "contact"):
        ids = sorted(ref for ref in refs if ref[0] == kind and ref[1])
        for start in range(0, len(ids), CHUNK):
            yield ids[start : start + CHUNK]


def _fetch(client: TeamleaderClient, refs: list[Ref]) -> dict[Ref, dict]:
    found: dict[Ref, dict] = {}
    for kind in ("contact", "company"):
        ids = [ident for of_kind, ident in refs if of_kind == kind]
        if ids:
            found.update(((kind, i), r) for i, r in client.parties_by_ids(kind, ids).items())
    return found


def _upsert(
    ref: Ref, record: dict | None, default_profile_id: int | None, customer: Customer | None
) -> tuple[Customer, bool]:
    """Update ``customer`` (the one linked to ``ref``) or create it; a concurrent
    creator wins."""
    if customer is not None:
        _apply(customer, record)
        return customer, False
    customer = Customer(
        teamleader_id=ref[1],
        customer_number=ref[1],
        kind=CustomerKind(ref[0]),
        profile_id=default_profile_id,
    )
    _apply(customer, record)
    try:
        with db.session.begin_nested():
            db.session.add(customer)
    except IntegrityError:
        # Another import created it between our read and our insert: use theirs.
        customer = _linked(ref[1])
        if customer is None:
            raise
        _apply(customer, record)
        return customer, False
    return customer, True


def _linked_many(teamleader_ids: list[str]) -> dict[str, Customer]:
    query = db.select(Customer).where(Customer.teamleader_id.in_(teamleader_ids))
    return {c.teamleader_id: c for c in db.session.scalars(query)}


def _linked(teamleader_id: str) -> Customer | None:
    return db.session.scalars(
        db.select(Customer).where(Customer.teamleader_id == teamleader_id)
    ).one_or_none()


def _apply(customer: Customer, record: dict | None) -> None:
    """Copy Teamleader's data onto ``customer`` and restore the customer number."""
    # The number is the Teamleader UUID; an edit made here does not survive an import.
    customer.customer_number = customer.teamleader_id
    customer.synced_at = utcnow()
    if record is None:
        customer.name = customer.name or "(unknown customer)"
        return
    address = record.get("primary_address") or {}
    values = {
        "email": _email(record),
        "language": record.get("language"),
        "address_line": address.get("line_1"),
        "postal_code": address.get("postal_code"),
        "city": address.get("city"),
        "country": (address.get("country") or "")[:2].upper() or None,
        # As typed; setting it (and the country) reads its compact, checked form onto
        # the customer (``Customer._read_vat``). A number that is not valid is a warning on
        # the customer, never a failed import.
        "vat_number": record.get("vat_number"),
        "teamleader_url": record.get("web_url"),
        "teamleader_updated_at": record.get("updated_at"),
    }
    for name, value in values.items():
        setattr(customer, name, _clip(name, value))
    customer.name = _clip("name", record.get("name")) or customer.name or "(unnamed)"


def _email(record: dict) -> str | None:
    """The invoicing address when a company has one (invoices go there), else the primary."""
    emails = {e.get("type"): e.get("email") for e in record.get("emails") or [] if e.get("email")}
    return emails.get("invoicing") or emails.get("primary") or next(iter(emails.values()), None)


def _from_invoicee(invoicee: dict | None) -> dict | None:
    """What a document says about a customer Teamleader no longer returns."""
    if not invoicee:
        return None
    return {"name": invoicee.get("name"), "vat_number": invoicee.get("vat_number")}


def _clip(name: str, value: object) -> object:
    """Cut strings to the column's length: Teamleader does not promise ours."""
    if isinstance(value, str):
        length = getattr(Customer.__table__.c[name].type, "length", None)
        return value[:length] if length else value
    return value


def refs_of(records: Iterable[dict]) -> dict[Ref, dict | None]:
    """The customer references of documents (list shape), each with its invoicee."""
    refs: dict[Ref, dict | None] = {}
    for record in records:
        ref = (record.get("customer_type"), record.get("customer_id"))
        if all(ref):
            refs.setdefault(ref, record.get("invoicee"))
    return refs
