"""Customers: find them, change what is ours to change, export them as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping

import sqlalchemy as sa
from marshmallow import fields, validate
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from collector.core.errors import Invalid, NotFound
from collector.documents.models import Customer, Profile
from collector.extensions import db
from collector.runtime.csv_cells import drain as _drain
from collector.runtime.csv_cells import text as _cell
from collector.runtime.listing import (
    ROW_ID,
    Page,
    PageArgsSchema,
    paginate,
    search_args,
    text_match,
)

# Everything else comes from Teamleader and is overwritten by the next import.
EDITABLE = ("profile_id", "customer_number")
NUMBER_LENGTH = 64

# The columns of the mandates CSV; finance fills in the last four and uploads it.
CSV_HEADER = (
    "customerNumber",
    "name",
    "email",
    "language",
    "address",
    "postalCode",
    "city",
    "country",
    "vatNumber",
    "profile",
    "mandateNumber",
    "iban",
    "bic",
    "signDate",
)
CSV_CHUNK_ROWS = 500
# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV
# injection"); names and addresses come from Teamleader, typed by anyone.


class CustomerQueryArgsSchema(PageArgsSchema):
    q = fields.String(validate=validate.Length(max=100))
    profile_id = fields.Integer(validate=ROW_ID)


def parse_query(args: Mapping[str, str]) -> dict:
    """Query-string ``args`` as the customer filters (``q``, ``profile_id``, ``page``,
    ``per_page``, None when not given); raises ``Invalid`` per argument."""
    return search_args(CustomerQueryArgsSchema(), args)


def search_customers(args: Mapping[str, str]) -> Page:
    """One page of customers by name, as the query-string ``args`` ask: ``q`` in the name,
    email or number, the ``profile_id``; raises ``Invalid`` per argument."""
    wanted = parse_query(args)
    conditions = _conditions(wanted["q"], wanted["profile_id"])
    query = (
        sa.select(Customer)
        .where(*conditions)
        .order_by(Customer.name, Customer.id)
        .options(joinedload(Customer.profile))
    )
    count = sa.select(sa.func.count()).select_from(Customer).where(*conditions)
    return paginate(query, count, wanted["page"], wanted["per_page"])


def _conditions(q: str | None, profile_id: int | None) -> list:
    conditions = text_match(q, Customer.name, Customer.email, Customer.customer_number)
    if profile_id is not None:
        conditions.append(Customer.profile_id == profile_id)
    return conditions


def get_customer(customer_id: int) -> Customer:
    """The customer with this id, or ``NotFound``."""
    customer = db.session.get(Customer, customer_id, options=[joinedload(Customer.profile)])
    if customer is None:
        raise NotFound(f"No customer with id {customer_id}.")
    return customer


def update_customer(customer: Customer, data: dict) -> Customer:
    """An admin's change to ``profile_id`` and/or ``customer_number``; keys absent
    from ``data`` keep their value. An edited number lasts until the next import."""
    unknown = set(data) - set(EDITABLE)
    if unknown:
        raise Invalid({name: ["This cannot be changed here."] for name in sorted(unknown)})
    number = (data.get("customer_number", customer.customer_number) or "").strip()
    profile_id = data.get("profile_id", customer.profile_id)
    errors = {**_number_errors(customer, number), **_profile_errors(profile_id)}
    if errors:
        raise Invalid(errors)
    customer.customer_number = number
    customer.profile_id = profile_id
    try:
        db.session.commit()
    except IntegrityError as exc:  # another request took the number meanwhile
        db.session.rollback()
        raise Invalid({"customer_number": ["Another customer has this number."]}) from exc
    return customer


def _number_errors(customer: Customer, number: str) -> dict[str, list[str]]:
    if not number:
        return {"customer_number": ["A customer number is required."]}
    if len(number) > NUMBER_LENGTH:
        return {"customer_number": [f"At most {NUMBER_LENGTH} characters."]}
    others = sa.select(Customer.customer_number, Customer.teamleader_id).where(
        Customer.id != customer.id,
        sa.or_(Customer.customer_number == number, Customer.teamleader_id == number),
    )
    for other_number, other_link in db.session.execute(others):
        if other_number == number:
            return {"customer_number": ["Another customer has this number."]}
        if other_link == number:
            # The next import gives that customer its number back, which would collide.
            return {"customer_number": ["This is another customer's Teamleader id."]}
    return {}


def _profile_errors(profile_id: int | None) -> dict[str, list[str]]:
    if profile_id is not None and db.session.get(Profile, profile_id) is None:
        return {"profile_id": ["No such profile."]}
    return {}


def customers_for_export(*conditions) -> Iterator[Customer]:
    """Every customer matching ``conditions`` (the list's filters: ``balances``), streamed
    from the database in chunks."""
    query = (
        sa.select(Customer)
        .where(*conditions)
        .order_by(Customer.name, Customer.id)
        .options(joinedload(Customer.profile))
        .execution_options(yield_per=CSV_CHUNK_ROWS)
    )
    yield from db.session.scalars(query)


def customers_csv(rows: Iterable[Customer]) -> Iterator[str]:
    """The mandates CSV for ``rows``, in text chunks of ``CSV_CHUNK_ROWS`` lines:
    the customers' data, with the mandate columns left empty to fill in."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    for n, customer in enumerate(rows, start=1):
        writer.writerow([_cell(value) for value in _csv_values(customer)])
        if n % CSV_CHUNK_ROWS == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _csv_values(customer: Customer) -> list[str | None]:
    profile = customer.profile.name if customer.profile else None
    return [
        customer.customer_number,
        customer.name,
        customer.email,
        customer.language,
        customer.address_line,
        customer.postal_code,
        customer.city,
        customer.country,
        customer.vat_number,
        profile,
        *[None] * 4,  # mandateNumber, iban, bic, signDate
    ]
