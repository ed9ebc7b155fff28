"""The bank files list: searched by file name, message id, account or who uploaded it,
filtered by format, sorted by any column, paged."""

from __future__ import annotations

import re
from collections.abc import Mapping

import sqlalchemy as sa
from marshmallow import fields, validate

from collector.direct_debit.models import BankFile, BankFileKind
from collector.runtime.listing import Page, PageArgsSchema, contains, load_args, paginate
from collector.runtime.sorting import Sorts

SORTS = Sorts(
    {
        "number": BankFile.id,
        "uploaded": BankFile.created_at,
        "kind": BankFile.kind,
        "file": BankFile.filename,
        "by": BankFile.actor,
    },
    tiebreak=BankFile.id,
    default="-number",
)


class BankFileListArgsSchema(PageArgsSchema):
    q = fields.String(validate=validate.Length(max=100))
    kind = fields.Enum(BankFileKind, by_value=True)
    sort = SORTS.field()


def parse_query(args: Mapping[str, str]) -> dict:
    """The query string as ``criteria``, ``sort``, ``page`` and ``per_page``; raises
    ``Invalid`` per argument."""
    data = load_args(BankFileListArgsSchema(), args)
    paging = {name: data.pop(name) for name in ("page", "per_page", "sort")}
    return {"criteria": data, **paging}


def list_files(
    criteria: Mapping, page: int = 1, per_page: int = 50, sort: str = SORTS.default
) -> tuple[Page, None]:
    """One page of the bank files matching ``criteria`` in ``sort`` order (no totals:
    a file's counts are its own)."""
    where = []
    if criteria.get("kind") is not None:
        where.append(BankFile.kind == criteria["kind"])
    q = (criteria.get("q") or "").strip()
    if q:
        pattern = contains(q)
        account = re.sub(r"\s", "", q).upper()
        where.append(
            sa.or_(
                BankFile.filename.ilike(pattern, escape="\\"),
                BankFile.message_id.ilike(pattern, escape="\\"),
                BankFile.actor.ilike(pattern, escape="\\"),
                BankFile.account_iban.contains(account, autoescape=True),
            )
        )
    query = sa.select(BankFile).where(*where).order_by(*SORTS.order_by(sort))
    count = sa.select(sa.func.count(BankFile.id)).where(*where)
    return paginate(query, count, page, per_page), None
