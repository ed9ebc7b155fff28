"""Writing a row unless a unique key says it exists: one statement, no savepoint."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

DIALECT_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def insert_unless_exists(session: Session, row, key: str):
    """Write the transient ``row`` unless a row with its unique ``key`` exists: the row
    written, persistent in ``session`` (read back from the INSERT's RETURNING), or None.

    ``INSERT … ON CONFLICT (key) DO NOTHING RETURNING …`` on PostgreSQL and SQLite
    (≥ 3.35): one round trip where a savepoint, the INSERT and its release took three; a
    concurrent writer of the same key makes it wait for that one's end, then write
    nothing. Attributes left None are not written, so column defaults apply;
    relationships are not read: set their foreign keys on ``row``."""
    model = type(row)
    mapper = sa.inspect(model)
    values = {
        attr.key: value
        for attr in mapper.column_attrs
        if (value := getattr(row, attr.key)) is not None
    }
    insert = DIALECT_INSERTS[session.get_bind().dialect.name](model)
    statement = (
        insert.values(**values)
        .on_conflict_do_nothing(index_elements=[getattr(model, key)])
        .returning(model)
    )
    return session.scalars(statement).one_or_none()
