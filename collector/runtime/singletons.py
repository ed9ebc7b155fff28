"""Tables that hold one row: the company's settings."""

from __future__ import annotations

from typing import TypeVar

from collector.extensions import db

M = TypeVar("M")


def only_row(model: type[M], **defaults) -> M:
    """The one row of ``model``'s table, made from ``defaults`` and committed on first use."""
    row = db.session.scalars(db.select(model).order_by(model.id).limit(1)).first()
    if row is None:
        row = model(**defaults)
        db.session.add(row)
        db.session.commit()
    return row
