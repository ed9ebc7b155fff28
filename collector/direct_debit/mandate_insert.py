"""Storing a chunk of an upload's new mandates: one statement per chunk on PostgreSQL.

PostgreSQL gets one ``INSERT … SELECT … FROM unnest(…)`` per chunk, each column sent as
one array: one statement and one round trip per 1,000 rows. The ORM's executemany would
send one INSERT per row (SQLAlchemy's psycopg dialect does not fold an INSERT without
RETURNING into multi-row VALUES; psycopg pipelines the rows but the server still plans
and runs each one, and the commit of 100,000 rows waited on 100,000 statements).

Other databases (SQLite: tests and small installs) keep the ORM's executemany: row by
row, but in the same transaction, so just as all-or-nothing.

Each column goes as the text of a PostgreSQL array (``{"a","b",NULL}``), built here in
one join: psycopg adapts a list element by element in Python, which was a quarter of the
commit's Python time (10 columns × 1,000 elements a chunk).

A plain INSERT, not ``ON CONFLICT``: a reference another upload stored after this pass
read the stored ones breaks the unique key and raises ``IntegrityError``, which the
commit answers with a second pass (``mandate_upload._store``), as before.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

import sqlalchemy as sa

from collector.direct_debit.models import Mandate, MandateStatus
from collector.extensions import db

# The columns a row of the file fills, with the array type PostgreSQL reads them as.
ROW_COLUMNS = (
    ("reference", "varchar"),
    ("reference_key", "varchar"),
    ("customer_id", "integer"),
    ("profile_id", "integer"),
    ("iban", "varchar"),
    ("bic", "varchar"),
    ("debtor_name", "varchar"),
    ("email", "varchar"),
    ("signed_on", "date"),
    ("scheme", "varchar"),
)
# The same for every row of an upload.
UPLOAD_COLUMNS = ("status", "used", "upload_id", "actor", "created_at", "updated_at")


def insert_chunk(rows: list[dict], *, upload_id: int, actor: str, now: datetime) -> None:
    """Insert ``rows`` (``RowCheck.new``'s dicts) as new mandates of the upload, in the
    caller's transaction."""
    if not rows:
        return
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(UNNEST_INSERT, _arrays(rows, upload_id, actor, now))
        return
    values = [
        {**row, "upload_id": upload_id, "actor": actor, "created_at": now, "updated_at": now}
        for row in rows
    ]
    # render_nulls: otherwise the ORM groups rows by which columns are NULL (an empty
    # BIC, no email) and sends a chunk as many small batches instead of one.
    db.session.execute(sa.insert(Mandate).execution_options(render_nulls=True), values)


def _arrays(rows: list[dict], upload_id: int, actor: str, now: datetime) -> dict:
    params = {name: array_text([row[name] for row in rows]) for name, _type in ROW_COLUMNS}
    params.update(
        status=MandateStatus.ACTIVE.value, used=False, upload_id=upload_id, actor=actor, now=now
    )
    return params


def array_text(values: list) -> str:
    """``values`` as the text of a PostgreSQL array: each element quoted (a backslash and
    a double quote escaped), None as NULL; a date in ISO form, an enum member as its
    stored value (enum_type stores values, not names)."""
    return "{" + ",".join(_element(value) for value in values) + "}"


def _element(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, date):
        value = value.isoformat()
    elif not isinstance(value, str):
        value = str(value)
    if "\\" in value or '"' in value:
        value = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{value}"'


def _unnest_insert_statement() -> sa.TextClause:
    names = [name for name, _type in ROW_COLUMNS]
    arrays = ", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in ROW_COLUMNS)
    selected = ", ".join(f"r.{name}" for name in names)
    columns = ", ".join(names + list(UPLOAD_COLUMNS))
    return sa.text(
        f"INSERT INTO {Mandate.__table__.name} ({columns}) "  # noqa: S608  (our constants)
        f"SELECT {selected}, :status, :used, :upload_id, :actor, :now, :now "
        f"FROM unnest({arrays}) AS r({', '.join(names)})"
    ).bindparams(sa.bindparam("now", type_=Mandate.__table__.c.created_at.type))


UNNEST_INSERT = _unnest_insert_statement()
