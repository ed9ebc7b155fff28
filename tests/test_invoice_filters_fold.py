"""The invoice list's secondary filters fold behind "More filters" (a phone shows the
search, the state and days overdue first); the page opens the fold when one of them is in
use, so an active filter is never hidden. Wide screens show them all (invoices.css)."""

from __future__ import annotations

import re

import pytest

MORE = re.compile(r'<details class="more-filters"( open)?>(.*?)</details>', re.S)
PRIMARY = ("q", "state", "overdue_from", "overdue_to")
SECONDARY = ("kind", "profile_id", "date_from", "date_to", "pdf", "teamleader")


def fold(client, **args) -> tuple[bool, str]:
    response = client.get("/invoices/", query_string=args)
    assert response.status_code == 200
    found = MORE.search(response.get_data(as_text=True))
    return bool(found.group(1)), found.group(2)


def test_the_secondary_filters_are_folded_and_the_first_ones_are_not(viewer_client):
    opened, inside = fold(viewer_client)
    assert not opened
    for name in SECONDARY:
        assert f'name="{name}"' in inside, name
    for name in PRIMARY:
        assert f'name="{name}"' not in inside, name
    assert "data-more-filters" not in inside


@pytest.mark.parametrize(
    ("args", "count"),
    [
        ({"kind": "invoice"}, 1),
        ({"pdf": "no"}, 1),
        ({"date_from": "2026-01-01", "teamleader": "problems"}, 2),
        ({"q": "acme", "kind": "credit_note"}, 1),
    ],
)
def test_a_secondary_filter_in_use_opens_the_fold(viewer_client, args, count):
    opened, inside = fold(viewer_client, **args)
    assert opened
    assert f'data-more-filters="{count}"' in inside


@pytest.mark.parametrize("args", [{"q": "acme"}, {"state": "BOOKED"}, {"overdue_from": "1"}])
def test_the_first_filters_leave_it_folded(viewer_client, args):
    opened, _inside = fold(viewer_client, **args)
    assert not opened
