"""The $filter parser and query options of the Exact emulator, on plain records."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from sandbox.exact.entities import lookup
from sandbox.exact.errors import ExactError
from sandbox.exact.odata import parse_filter
from sandbox.exact.query import Query

ENTRIES = lookup("salesentry/SalesEntries")
ID_A, ID_B = uuid.UUID(int=1), uuid.UUID(int=2)
ROWS = [
    {
        "EntryID": ID_A,
        "Journal": "70",
        "YourRef": "O'Brien 1",
        "Description": "Teamleader invoice 2026/0001",
        "AmountFC": Decimal("121.00"),
        "EntryDate": datetime(2026, 3, 1, tzinfo=UTC),
        "Reversal": False,
        "Document": None,
    },
    {
        "EntryID": ID_B,
        "Journal": "71",
        "YourRef": "TL-2",
        "Description": "Credit note 2026/0002",
        "AmountFC": Decimal("-60.50"),
        "EntryDate": datetime(2026, 3, 20, tzinfo=UTC),
        "Reversal": False,
        "Document": None,
    },
]


def _match(expression: str) -> list[str]:
    predicate = parse_filter(expression, ENTRIES)
    return [row["YourRef"] for row in ROWS if predicate(row)]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("YourRef eq 'O''Brien 1'", ["O'Brien 1"]),
        ("Journal eq '70' and (YourRef eq 'TL-2' or YourRef eq 'O''Brien 1')", ["O'Brien 1"]),
        ("Journal eq '70' and YourRef eq 'TL-2' or Journal eq '71'", ["TL-2"]),
        (f"EntryID eq guid'{ID_B}'", ["TL-2"]),
        (f"EntryID eq guid'{ID_A}' or EntryID eq guid'{ID_B}'", ["O'Brien 1", "TL-2"]),
        ("EntryDate gt datetime'2026-03-10'", ["TL-2"]),
        ("EntryDate le datetime'2026-03-01T00:00'", ["O'Brien 1"]),
        ("AmountFC lt 0", ["TL-2"]),
        ("AmountFC ge 121.00", ["O'Brien 1"]),
        ("substringof('2026/0002', Description) eq true", ["TL-2"]),
        ("substringof('credit', Description)", ["TL-2"]),
        ("not (Journal eq '70')", ["TL-2"]),
        ("Reversal eq false", ["O'Brien 1", "TL-2"]),
        ("Document eq null", ["O'Brien 1", "TL-2"]),
        ("trim(Journal) ne '70'", ["TL-2"]),
        ("tolower(YourRef) eq 'tl-2'", ["TL-2"]),
    ],
)
def test_filter_expressions(expression, expected):
    assert _match(expression) == expected


@pytest.mark.parametrize(
    "expression",
    [
        "EntryID eq 'x'",  # a Guid needs guid'…'
        "AmountFC eq '5'",
        "Journal eq 70",
        "YourRef",  # not boolean
        "YourRef eq 'open",
        "(Journal eq '70'",
        "Nope eq 1",
        "SalesEntryLines eq null",  # navigation properties cannot be filtered
        "EntryID eq guid'nope'",
        "substringof(Journal)",
    ],
)
def test_bad_filters_are_400(expression):
    with pytest.raises(ExactError) as error:
        parse_filter(expression, ENTRIES)
    assert error.value.status == 400


def test_orderby_then_paging_with_skiptoken():
    rows = [{"EntryID": uuid.UUID(int=n), "EntryNumber": n % 3} for n in range(1, 8)]
    query = Query.parse({"$orderby": "EntryNumber desc", "$top": "5"}, ENTRIES)
    ordered = query.matching(rows)
    assert [r["EntryNumber"] for r in ordered] == [2, 2, 1, 1, 1, 0, 0]
    page, following = query.page(ordered, page_size=3)
    assert len(page) == 3
    assert following == {"$skiptoken": f"guid'{page[-1]['EntryID']}'", "$top": "2"}
    rest = Query.parse({"$orderby": "EntryNumber desc", **following}, ENTRIES)
    second, last = rest.page(rest.matching(rows), page_size=3)
    assert [r["EntryID"] for r in second] == [r["EntryID"] for r in ordered[3:5]]
    assert last is None


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"$top": "-1"}, r"Invalid value '-1' for \$top"),
        ({"$orderby": "Nope"}, "No property 'Nope' exists"),
        ({"$skiptoken": "x"}, r"Invalid \$skiptoken 'x'"),
    ],
)
def test_bad_options_are_400(options, reason):
    with pytest.raises(ExactError, match=reason) as error:
        Query.parse(options, ENTRIES)
    assert error.value.status == 400
