"""Sorting a list by any of its columns: the keys a list offers (nothing else reaches
ORDER BY), the ``sort`` query argument that names one ("-" in front: high to low), and
its ORDER BY, with the row id settling ties so paging never shows a row twice."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext
from marshmallow import ValidationError, fields


@dataclass(frozen=True)
class SortKey:
    """A column a list sorts by."""

    expression: sa.ColumnElement
    nullable: bool = False  # rows without a value go last, whichever the direction


class Sorts:
    """The sort keys of one list, its default order and the column that breaks ties."""

    def __init__(self, keys: dict[str, SortKey | sa.ColumnElement], tiebreak, default: str):
        self.keys = {k: v if isinstance(v, SortKey) else SortKey(v) for k, v in keys.items()}
        self.tiebreak = tiebreak
        self.default = default

    def field(self) -> fields.String:
        """The ``sort`` argument of the list's query-string schema."""
        return fields.String(load_default=self.default, validate=self._known)

    def _known(self, value: str) -> None:
        if value.removeprefix("-") not in self.keys:
            raise ValidationError(
                gettext(
                    "Sort by one of: %(keys)s; a - in front sorts the other way round.",
                    keys=", ".join(self.keys),
                )
            )

    def order_by(self, sort: str) -> list:
        """The ORDER BY of ``sort``, a key of the list with "-" in front for high to low."""
        key = self.keys[sort.removeprefix("-")]
        descending = sort.startswith("-")
        column = key.expression.desc() if descending else key.expression.asc()
        if key.nullable:
            column = column.nulls_last()
        return [column, self.tiebreak.desc() if descending else self.tiebreak.asc()]
