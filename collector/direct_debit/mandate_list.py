"""The mandates list as the finance team works it: one search box (reference, customer
name or number, account holder, IBAN or its last digits), filters kept in the query
string, sorted by any column, counted by status, and streamed whole for an export."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from marshmallow import fields, validate, validates_schema
from sqlalchemy.orm import selectinload

from collector.direct_debit.mandates import LAPSE_AFTER
from collector.direct_debit.models import Mandate, MandateScheme, MandateStatus
from collector.documents.models import Customer, Profile
from collector.extensions import db
from collector.runtime.listing import (
    ROW_ID,
    Page,
    PageArgsSchema,
    contains,
    dates_in_order,
    load_args,
)
from collector.runtime.sorting import SortKey, Sorts

EXPORT_BATCH = 1_000
# What an IBAN is searched by: letters and digits, as the IBAN is stored (compact).
IBAN_PART = re.compile(r"[0-9A-Z]{3,34}")

SORTS = Sorts(
    {
        "stored": Mandate.id,
        "reference": Mandate.reference_key,
        "customer": Customer.name,
        "iban": Mandate.iban,
        "profile": Profile.name,
        "scheme": Mandate.scheme,
        "signed": Mandate.signed_on,
        "next": Mandate.used,  # FRST (not used yet) before RCUR
        "collected": SortKey(Mandate.last_collected_on, nullable=True),
        "status": Mandate.status,
    },
    tiebreak=Mandate.id,
    default="-stored",
)


class MandateListArgsSchema(PageArgsSchema):
    """The list's query string: its filter, its order and its page."""

    q = fields.String(validate=validate.Length(max=100))
    status = fields.Enum(MandateStatus, by_value=True)
    scheme = fields.Enum(MandateScheme, by_value=True)
    profile_id = fields.Integer(validate=ROW_ID)
    customer_id = fields.Integer(validate=ROW_ID)
    signed_from = fields.Date()
    signed_to = fields.Date()
    sort = SORTS.field()

    @validates_schema
    def _dates_in_order(self, data, **_kwargs):
        dates_in_order(data, "signed_from", "signed_to")


def parse_query(args: Mapping[str, str]) -> dict:
    """The query string as ``criteria`` (the filter), ``sort``, ``page`` and ``per_page``;
    raises ``Invalid`` per argument."""
    data = load_args(MandateListArgsSchema(), args)
    paging = {name: data.pop(name) for name in ("page", "per_page", "sort")}
    return {"criteria": data, **paging}


def conditions(criteria: Mapping) -> list:
    """The WHERE of a parsed filter."""
    c = criteria
    equal = {
        Mandate.status: c.get("status"),
        Mandate.scheme: c.get("scheme"),
        Mandate.profile_id: c.get("profile_id"),
        Mandate.customer_id: c.get("customer_id"),
    }
    found = [column == value for column, value in equal.items() if value is not None]
    if c.get("signed_from"):
        found.append(Mandate.signed_on >= c["signed_from"])
    if c.get("signed_to"):
        found.append(Mandate.signed_on <= c["signed_to"])
    q = (c.get("q") or "").strip()
    if q:
        found.append(_search(q))
    return found


def _search(q: str):
    """Mandates whose reference, account holder or IBAN contains ``q``, or whose customer's
    name contains it or number is it."""
    pattern = contains(q)
    own = [
        Mandate.reference.ilike(pattern, escape="\\"),
        Mandate.debtor_name.ilike(pattern, escape="\\"),
    ]
    compact = re.sub(r"[\s.-]", "", q).upper()
    if IBAN_PART.fullmatch(compact):
        # "7034", "BE68 5390": the IBAN is stored compact and upper case.
        own.append(Mandate.iban.contains(compact, autoescape=True))
    customers = sa.select(Customer.id).where(
        sa.or_(Customer.name.ilike(pattern, escape="\\"), Customer.customer_number == q)
    )
    # A union of ids rather than one OR across the join: each half uses its own indexes
    # (the customer's name through its trigram index), where an OR reads every pair.
    found = sa.union(
        sa.select(Mandate.id).where(sa.or_(*own)),
        sa.select(Mandate.id).where(Mandate.customer_id.in_(customers)),
    )
    return Mandate.id.in_(found)


def _ordered(where: list, sort: str) -> sa.Select:
    """The mandates matching ``where`` in ``sort`` order, joined to what the order reads."""
    query = sa.select(Mandate).where(*where).order_by(*SORTS.order_by(sort))
    key = sort.removeprefix("-")
    if key == "customer":
        query = query.join(Customer, Mandate.customer_id == Customer.id)
    elif key == "profile":
        query = query.join(Profile, Mandate.profile_id == Profile.id)
    return query


@dataclass(frozen=True)
class Counts:
    """How many mandates the filter matches, per status."""

    by_status: dict[MandateStatus, int]

    @property
    def count(self) -> int:
        return sum(self.by_status.values())


def list_mandates(
    criteria: Mapping, page: int = 1, per_page: int = 50, sort: str = SORTS.default
) -> tuple[Page, Counts]:
    """One page of the mandates matching ``criteria`` in ``sort`` order, with their
    customer and profile, and the counts of all of them by status."""
    where = conditions(criteria)
    grouped = sa.select(Mandate.status, sa.func.count()).where(*where).group_by(Mandate.status)
    found = {MandateStatus(s): n for s, n in db.session.execute(grouped)}
    counts = Counts({s: found[s] for s in MandateStatus if s in found})
    query = (
        _ordered(where, sort)
        # selectin: one query per page for each, however deep the page.
        .options(selectinload(Mandate.customer), selectinload(Mandate.profile))
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    items = list(db.session.scalars(query))
    return Page(items=items, total=counts.count, page=page, per_page=per_page), counts


@dataclass(frozen=True)
class ExportRow:
    """One mandate of an export: plain values."""

    reference: str
    status: MandateStatus
    customer: str
    customer_number: str
    debtor_name: str
    iban: str
    bic: str | None
    email: str | None
    profile: str
    scheme: MandateScheme
    signed_on: date
    next_sequence: str | None  # FRST or RCUR while active
    last_collected_on: date | None
    lapses_on: date | None  # while active


def export_rows(criteria: Mapping, sort: str = SORTS.default) -> Iterator[ExportRow]:
    """Every mandate matching ``criteria`` in ``sort`` order, fetched EXPORT_BATCH rows at
    a time (columns, not entities: nothing accumulates in the session)."""
    query = (
        sa.select(Mandate)
        .join(Customer, Mandate.customer_id == Customer.id)
        .join(Profile, Mandate.profile_id == Profile.id)
        .where(*conditions(criteria))
        .with_only_columns(
            Mandate.reference,
            Mandate.status,
            Customer.name.label("customer"),
            Customer.customer_number,
            Mandate.debtor_name,
            Mandate.iban,
            Mandate.bic,
            Mandate.email,
            Profile.name.label("profile"),
            Mandate.scheme,
            Mandate.signed_on,
            Mandate.used,
            Mandate.last_collected_on,
        )
        .order_by(*SORTS.order_by(sort))
        .execution_options(yield_per=EXPORT_BATCH)
    )
    for row in db.session.execute(query):
        active = row.status == MandateStatus.ACTIVE
        yield ExportRow(
            reference=row.reference,
            status=row.status,
            customer=row.customer,
            customer_number=row.customer_number,
            debtor_name=row.debtor_name,
            iban=row.iban,
            bic=row.bic,
            email=row.email,
            profile=row.profile,
            scheme=row.scheme,
            signed_on=row.signed_on,
            next_sequence=("RCUR" if row.used else "FRST") if active else None,
            last_collected_on=row.last_collected_on,
            lapses_on=(row.last_collected_on or row.signed_on) + LAPSE_AFTER if active else None,
        )
