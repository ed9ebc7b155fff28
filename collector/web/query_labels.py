"""The words a list page uses for its own query arguments when one is refused.

A list's filters, sort and pager travel in the address (``?date_from=…&page=3``); a value
that does not parse comes back as an error keyed by the argument's name. The page says
which filter it was in the reader's language — "Vervaldatum vanaf: geen geldige datum" —
never the parameter's English name; marshmallow's own refusals ("Not a valid date.")
are said in that language too.
"""

import re
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from marshmallow.error_store import SCHEMA

from collector.core import formatting
from collector.runtime.wordings import reader_locale

LABELS = {
    "actor": _l("Who"),
    "after": _l("Page link"),
    "before": _l("Page link"),
    "channel": _l("Channel"),
    "currency": _l("Currency"),
    "customer_id": _l("Customer"),
    "date_from": _l("From"),
    "date_to": _l("Until"),
    "department_id": _l("Company entity"),
    "dunning": _l("Dunning"),
    "group": _l("What"),
    "include_cancelled": _l("Show cancelled rows"),
    "kind": _l("Kind"),
    "made_from": _l("Made from"),
    "made_to": _l("Made until"),
    "overdue_from": _l("Days overdue from"),
    "overdue_to": _l("Days overdue to"),
    "page": _l("Page"),
    "pdf": _l("PDF"),
    "per_page": _l("Rows per page"),
    "profile_id": _l("Profile"),
    "q": _l("Search"),
    "scheme": _l("Scheme"),
    "signed_from": _l("Signed from"),
    "signed_to": _l("Signed until"),
    "sort": _l("Sort"),
    "state": _l("State"),
    "status": _l("Status"),
    "teamleader": _l("Teamleader"),
    "without_mandate": _l("Direct debit without a mandate"),
}


def query_label(name: str) -> str:
    """The reader's word for query argument ``name``; an argument the page does not know
    (a typing error in the address) is shown as typed, a whole-query error by its message
    alone ("")."""
    if name == SCHEMA:
        return ""
    label = LABELS.get(name)
    return str(label) if label is not None else name


# marshmallow's refusals as its fields and validators word them (marshmallow 3/4), each
# with the reader's wording; a refusal not matched here is shown as it is.
_REFUSALS = [
    (r"Not a valid date\.", _l("Not a valid date.")),
    (r"Not a valid integer\.", _l("Not a valid whole number.")),
    (r"Not a valid number\.", _l("Not a valid number.")),
    (r"Not a valid boolean\.", _l("Not a valid yes or no.")),
    (r"Not a valid string\.", _l("Not a valid text.")),
    (r"Unknown field\.", _l("This page does not know this parameter.")),
    (r"Invalid value\.", _l("Not a valid value.")),
    (r"Must be one of: (?P<choices>.*)\.", _l("Must be one of: %(choices)s.")),
    (
        r"Must be greater than or equal to (?P<min>\S+) and less than or equal to (?P<max>\S+)\.",
        _l("Must be from %(min)s to %(max)s."),
    ),
    (r"Must be greater than or equal to (?P<min>\S+)\.", _l("Must be at least %(min)s.")),
    (r"Must be less than or equal to (?P<max>\S+)\.", _l("Must be at most %(max)s.")),
    (r"Longer than maximum length (?P<max>\d+)\.", _l("At most %(max)s characters.")),
]
_PATTERNS = [(re.compile(pattern), said) for pattern, said in _REFUSALS]


def query_message(text: str) -> str:
    """``text``, a refusal of one query argument, in the reader's language."""
    for pattern, said in _PATTERNS:
        found = pattern.fullmatch(text)
        if found:
            values = {name: _number(value) for name, value in found.groupdict().items()}
            return str(said) % values if values else str(said)
    return text


def _number(text: str) -> str:
    """A bound marshmallow wrote the Python way ("36500", "0.01") as the reader writes it
    ("36.500", "0,01"); the choices of a OneOf and anything else are kept as they are."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    if not value.is_finite():
        return text
    return formatting.number(value, locale=reader_locale())
