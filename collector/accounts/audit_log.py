"""Reading the audit log: the rows an admin asks for (action group, actor, company-local
date range), newest first, a page at a time by keyset, since the table only grows; and
the same rows as a CSV file.

Pages are cut by the last row shown (its time, then its id), not by offset: "older than
row N" stays one range scan of the time index however deep the reader pages, and a row
added meanwhile does not shift the next page.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from marshmallow import fields, validate, validates_schema

from collector.accounts import audit_wording
from collector.accounts.models import AuditEvent
from collector.core import clock
from collector.extensions import db
from collector.runtime import csv_cells
from collector.runtime.listing import ROW_ID, QueryArgsSchema, contains, dates_in_order, load_args

PER_PAGE = 50
CSV_CHUNK_ROWS = 1_000


class AuditArgsSchema(QueryArgsSchema):
    group = fields.String(validate=validate.OneOf(list(audit_wording.GROUPS)))
    actor = fields.String(validate=validate.Length(max=254))
    date_from = fields.Date()
    date_to = fields.Date()
    before = fields.Integer(validate=ROW_ID)  # older than this row
    after = fields.Integer(validate=ROW_ID)  # newer than this row

    @validates_schema
    def _range(self, data, **_kwargs):
        dates_in_order(data, "date_from", "date_to")


args_schema = AuditArgsSchema()


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    older: int | None  # the ``before`` of the next, older page
    newer: int | None  # the ``after`` of the previous, newer page


def search(args: Mapping[str, str]) -> AuditPage:
    """One page of the rows ``args`` ask for, newest first; Invalid on a bad argument."""
    data = load_args(args_schema, args)
    query = sa.select(AuditEvent).where(*conditions(data))
    if data.get("after") is not None:
        # The page just newer than ``after``: the oldest PER_PAGE above it, shown newest first.
        above = _beyond(data["after"], newer=True)
        rows = db.session.scalars(query.where(above).order_by(*OLDEST_FIRST).limit(PER_PAGE + 1))
        rows = rows.all()
        events = list(reversed(rows[:PER_PAGE]))
        more_newer = len(rows) > PER_PAGE
        return AuditPage(events, older=_last_id(events), newer=events[0].id if more_newer else None)
    paging = data.get("before") is not None
    if paging:
        query = query.where(_beyond(data["before"], newer=False))
    rows = db.session.scalars(query.order_by(*NEWEST_FIRST).limit(PER_PAGE + 1)).all()
    events = list(rows[:PER_PAGE])
    older = events[-1].id if len(rows) > PER_PAGE else None
    newer = events[0].id if events and paging else None
    return AuditPage(events, older=older, newer=newer)


NEWEST_FIRST = (AuditEvent.at.desc(), AuditEvent.id.desc())
OLDEST_FIRST = (AuditEvent.at.asc(), AuditEvent.id.asc())


def _beyond(row_id: int, *, newer: bool) -> sa.ColumnElement[bool]:
    """Rows after (``newer``) or before row ``row_id`` in the log's order (time, then id);
    nothing when that row does not exist."""
    at = db.session.scalar(sa.select(AuditEvent.at).where(AuditEvent.id == row_id))
    if at is None:
        return sa.false()
    if newer:
        return sa.or_(AuditEvent.at > at, sa.and_(AuditEvent.at == at, AuditEvent.id > row_id))
    return sa.or_(AuditEvent.at < at, sa.and_(AuditEvent.at == at, AuditEvent.id < row_id))


def _last_id(events: list[AuditEvent]) -> int | None:
    return events[-1].id if events else None


def conditions(data: Mapping) -> list:
    """The filter ``data`` (loaded arguments) as SQL conditions."""
    where = []
    if data.get("group"):
        prefixes = audit_wording.GROUPS[data["group"]].prefixes
        where.append(sa.or_(*(AuditEvent.action.startswith(p) for p in prefixes)))
    if data.get("actor"):
        where.append(AuditEvent.actor.ilike(contains(data["actor"]), escape="\\"))
    if data.get("date_from"):
        where.append(AuditEvent.at >= start_of(data["date_from"]))
    if data.get("date_to"):
        where.append(AuditEvent.at < start_of(data["date_to"] + timedelta(days=1)))
    return where


def start_of(day: date) -> datetime:
    """The instant a company-local day begins."""
    return datetime.combine(day, time(0), tzinfo=clock.zone())


def rows_for_export(args: Mapping[str, str]) -> Iterator[AuditEvent]:
    """Every row the filter in ``args`` matches (paging ignored), newest first."""
    data = load_args(args_schema, {k: v for k, v in args.items() if k not in ("before", "after")})
    query = sa.select(AuditEvent).where(*conditions(data)).order_by(*NEWEST_FIRST)
    return iter(db.session.scalars(query.execution_options(yield_per=CSV_CHUNK_ROWS)))


def events_csv(events: Iterator[AuditEvent], header: list[str]) -> Iterator[str]:
    """The CSV of ``events`` under ``header``, in chunks; every text a person or an
    upstream system could have typed is a cell that stays text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for n, event in enumerate(events, start=1):
        writer.writerow(
            [
                csv_cells.instant(event.at),
                csv_cells.text(event.actor),
                event.action,
                csv_cells.text(str(audit_wording.describe(event.action))),
                csv_cells.text(event.target),
                csv_cells.text(audit_wording.details_text(event.details)),
                csv_cells.text(event.remote_addr),
            ]
        )
        if n % CSV_CHUNK_ROWS == 0:
            yield csv_cells.drain(buffer)
    yield csv_cells.drain(buffer)
