"""The documents ticked in the invoice list and what to do with them: send their
invitations or a reminder now, fetch their PDFs, put them on hold or lift their holds,
export them. The form is read and checked whole before anything starts, so a bad or stale
selection changes nothing and says why."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.datastructures import MultiDict

from collector.core.errors import Invalid
from collector.documents.models import Invoice
from collector.extensions import db
from collector.web.invoice_query import DEFAULT_SORT, SORTS

MAX_SELECTED = 500
ID_DIGITS = 11  # more digits than any row id: a typo or a probe, never a document
EXPORTS = {"export_csv": "csv", "export_xlsx": "xlsx"}
ACTIONS = ("fetch_pdfs", "send_invitations", "send_reminders", "hold", "lift_holds", *EXPORTS)


@dataclass(frozen=True)
class Selection:
    action: str
    ids: list[int]  # as ticked, each once
    sort: str  # the list's order, which an export keeps

    @property
    def file_format(self) -> str | None:
        """ "csv" or "xlsx" for an export, None for an action that starts a job."""
        return EXPORTS.get(self.action)


def read_selection(form: MultiDict | Mapping) -> Selection:
    """The posted action, ids and sort; raises ``Invalid`` (its message for the person)
    when the action is unknown, nothing or too much is ticked, an id is not a number, or
    a document is gone."""
    action = form.get("action", "")
    if action not in ACTIONS:
        raise _refused("action", _("Choose what to do with the selected documents."))
    raw = form.getlist("ids")
    if not raw:
        raise _refused("ids", _("Select at least one document."))
    if len(raw) > MAX_SELECTED or not all(_is_id(v) for v in raw):
        raise _refused("ids", _("Select between 1 and %(max)s documents.", max=MAX_SELECTED))
    ids = list(dict.fromkeys(int(v) for v in raw))
    found = set(db.session.scalars(db.select(Invoice.id).where(Invoice.id.in_(ids))))
    if gone := len(ids) - len(found):
        raise _refused(
            "ids",
            ngettext(
                "%(num)s of the selected documents no longer exists; reload the page and "
                "select again.",
                "%(num)s of the selected documents no longer exist; reload the page and "
                "select again.",
                gone,
            ),
        )
    sort = form.get("sort", "")
    return Selection(action, ids, sort if sort.removeprefix("-") in SORTS else DEFAULT_SORT)


def _is_id(value: str) -> bool:
    # isascii: "²" is a digit to isdigit() but not to int().
    return value.isascii() and value.isdigit() and len(value) <= ID_DIGITS


def _refused(field: str, message: str) -> Invalid:
    return Invalid({field: [message]}, message)
