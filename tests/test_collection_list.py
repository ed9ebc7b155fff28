"""The collection runs list as the finance team works it: sorted by any column (stable, in
the URL), one search box (run, document, customer, mandate), filters kept in the URL, the
count and amount per state of the filtered runs, what the bank made of each run, and the
export of the filtered list as CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from collector.core import clock as core_clock
from collector.direct_debit.models import (
    CollectionRun,
    CollectionRunStatus,
    CollectionStatus,
    MandateScheme,
)
from collector.direct_debit.run_list import SORTS
from collector.extensions import db
from tests.support.factories import make_collection, make_customer, make_invoice, make_mandate

ROW = re.compile(r'<tr data-run="(\d+)"')
STATE = re.compile(
    r'data-state="(\w+)" data-currency="EUR" data-runs="(\d+)" data-debits="(\d+)" '
    r'data-value="([\d.]+)"'
)


def shown(response) -> list[int]:
    return [int(i) for i in ROW.findall(response.get_data(as_text=True))]


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def make_run(made: datetime, **values) -> CollectionRun:
    defaults = {
        "scheme": MandateScheme.CORE,
        "status": CollectionRunStatus.SENT,
        "message_id": f"MSG-{made:%Y%m%d%H%M%S}",
        "pain_version": "pain.008.001.02",
        "count": 0,
        "total": Decimal("0.00"),
        "collect_until": made.date() + timedelta(days=7),
        "actor": "user:ann@example.com",
        "created_at": made,
    }
    run = CollectionRun(**{**defaults, **values})
    db.session.add(run)
    db.session.commit()
    return run


def collect(run: CollectionRun, customer, amount: str, status=CollectionStatus.SETTLED, **kw):
    mandate = make_mandate(customer=customer, **kw)
    invoice = make_invoice(customer=customer, profile=mandate.profile, amount_due=Decimal(amount))
    return make_collection(
        run=run, mandate=mandate, invoice=invoice, amount=Decimal(amount), status=status
    )


@pytest.fixture
def runs(app, clock):
    """Three runs whose columns each order them differently, with collections."""
    today = clock.today()

    def at(days_ago: int) -> datetime:
        return datetime.combine(today - timedelta(days=days_ago), time(10), core_clock.zone())

    sent = make_run(
        at(20),
        count=3,
        total=Decimal("363.00"),
        actor="user:bob@example.com",
        collect_until=today - timedelta(days=10),
    )
    created = make_run(
        at(2),
        status=CollectionRunStatus.CREATED,
        scheme=MandateScheme.B2B,
        count=1,
        total=Decimal("1000.00"),
        collect_until=today + timedelta(days=5),
    )
    cancelled = make_run(
        at(9),
        status=CollectionRunStatus.CANCELLED,
        count=2,
        total=Decimal("50.00"),
        collect_until=today,
        cancel_reason="Wrong date",
        cancelled_at=at(8),
    )
    acme = make_customer(name="Acme NV", customer_number="C-0042")
    brol = make_customer(name="Brol BV")
    collect(sent, acme, "121.00", reference="MD-ACME")
    collect(sent, brol, "121.00", status=CollectionStatus.REJECTED)
    collect(sent, brol, "121.00", status=CollectionStatus.RETURNED)
    collect(created, brol, "1000.00", status=CollectionStatus.PENDING, scheme=MandateScheme.B2B)
    collect(cancelled, acme, "25.00", status=CollectionStatus.CANCELLED)
    return {"sent": sent, "created": created, "cancelled": cancelled}


def ids(runs, *names) -> list[int]:
    return [runs[name].id for name in names]


# -- sorting --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (None, ["cancelled", "created", "sent"]),  # the latest run first
        ("number", ["sent", "created", "cancelled"]),
        ("made", ["sent", "cancelled", "created"]),
        ("-made", ["created", "cancelled", "sent"]),
        ("by", ["created", "cancelled", "sent"]),  # ann, ann (by number), bob
        ("-by", ["sent", "cancelled", "created"]),
        ("scheme", ["created", "sent", "cancelled"]),
        ("until", ["sent", "cancelled", "created"]),
        ("status", ["cancelled", "created", "sent"]),
        ("count", ["created", "cancelled", "sent"]),
        ("-total", ["created", "sent", "cancelled"]),
    ],
)
def test_the_list_sorts_by_any_column_stably(viewer_client, runs, sort, expected):
    response = viewer_client.get("/collections/", query_string={"sort": sort} if sort else {})

    assert response.status_code == 200
    assert shown(response) == ids(runs, *expected)


def test_every_sort_key_has_its_header_and_keeps_the_filter(viewer_client, runs):
    html = viewer_client.get(
        "/collections/", query_string={"sort": "-total", "status": "sent"}
    ).text

    assert set(re.findall(r'data-sort="(\w+)"', html)) == set(SORTS.keys)
    assert 'data-sort="total" aria-sort="descending"' in html
    assert 'href="/collections/?sort=total&amp;status=sent"' in html
    assert viewer_client.get("/collections/", query_string={"sort": "actor"}).status_code == 400


# -- searching and filtering ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"q": "acme"}, ["cancelled", "sent"]),  # a customer it collected from
        ({"q": "C-0042"}, ["cancelled", "sent"]),  # by the customer's number
        ({"q": "md-acme"}, ["sent"]),  # a mandate it collected on
        ({"q": "bob@"}, ["sent"]),  # who made it
        ({"status": "created"}, ["created"]),
        ({"scheme": "B2B"}, ["created"]),
        ({"status": "sent", "q": "brol"}, ["sent"]),
    ],
)
def test_one_search_box_and_the_filters(viewer_client, runs, args, expected):
    response = viewer_client.get("/collections/", query_string=args)

    assert response.status_code == 200
    assert shown(response) == ids(runs, *expected)


def test_a_run_is_found_by_its_number_document_and_file(viewer_client, runs):
    sent = runs["sent"]
    for q in (f"#{sent.id}", str(sent.id), sent.collections[0].invoice.number, sent.message_id):
        assert sent.id in shown(viewer_client.get("/collections/", query_string={"q": q})), q


def test_the_days_made_are_the_companys_local_days(viewer_client, runs, clock):
    today = clock.today()
    day = (today - timedelta(days=9)).isoformat()
    response = viewer_client.get("/collections/", query_string={"made_from": day, "made_to": day})
    assert shown(response) == ids(runs, "cancelled")
    since = {"made_from": (today - timedelta(days=9)).isoformat()}
    assert shown(viewer_client.get("/collections/", query_string=since)) == ids(
        runs, "cancelled", "created"
    )
    # A run made just after local midnight belongs to that local day, whatever UTC says.
    midnight = datetime.combine(today, time(0, 10), core_clock.zone()).astimezone(UTC)
    late = make_run(midnight, message_id="LATE")
    asked = {"made_from": today.isoformat(), "made_to": today.isoformat()}
    assert shown(viewer_client.get("/collections/", query_string=asked)) == [late.id]


def test_the_totals_are_per_state_of_the_whole_filtered_list(viewer_client, runs):
    html = viewer_client.get("/collections/", query_string={"per_page": 1}).text

    assert re.search(r'data-totals="(\d+)"', html).group(1) == "3"
    assert STATE.findall(html) == [
        ("created", "1", "1", "1000.00"),
        ("sent", "1", "3", "363.00"),
        ("cancelled", "1", "2", "50.00"),
    ]
    only_acme = viewer_client.get("/collections/", query_string={"q": "acme"}).text
    assert [state for state, *_ in STATE.findall(only_acme)] == ["sent", "cancelled"]


def test_each_row_says_what_the_bank_made_of_its_collections(viewer_client, runs):
    html = viewer_client.get("/collections/").text
    sent = html[html.index(f'data-run="{runs["sent"].id}"') :].split("</tr>")[0]

    assert re.findall(r'data-outcome="(\w+)"', sent) == ["settled", "rejected", "returned"]
    created = html[html.index(f'data-run="{runs["created"].id}"') :].split("</tr>")[0]
    assert re.findall(r'data-outcome="(\w+)"', created) == ["pending"]


# -- export ---------------------------------------------------------------------------------


def test_the_csv_export_has_machine_values_and_the_outcomes(viewer_client, runs, clock):
    response = viewer_client.get("/collections/export.csv", query_string={"sort": "number"})

    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="runs-{clock.today().isoformat()}.csv"'
    )
    rows = read_csv(response)
    assert rows[0][:8] == [
        "Run",
        "Made at",
        "Made by",
        "Scheme",
        "Announced up to",
        "Status",
        "Direct debits",
        "Total",
    ]
    sent, created, cancelled = runs["sent"], runs["created"], runs["cancelled"]
    assert [int(r[0]) for r in rows[1:]] == [sent.id, created.id, cancelled.id]
    assert rows[1] == [
        str(sent.id),
        core_clock.local(sent.created_at).isoformat(timespec="seconds"),
        "user:bob@example.com",
        "CORE",
        sent.collect_until.isoformat(),
        "sent",
        "3",
        "363.00",
        "EUR",
        "1",
        "1",
        "1",
        sent.message_id,
        "",
        "",
        "",
    ]
    assert rows[3][5] == "cancelled" and rows[3][-1] == "Wrong date" and rows[3][-2] != ""


def test_the_csv_export_keeps_the_filter_in_the_readers_language(viewer_client, runs):
    response = viewer_client.get(
        "/collections/export.csv",
        query_string={"status": "sent", "page": 5},
        headers={"Accept-Language": "fr-BE"},
    )
    rows = read_csv(response)
    assert rows[0][:3] == ["Série", "Créée le", "Créée par"]
    assert [r[0] for r in rows[1:]] == [str(runs["sent"].id)] and rows[1][5] == "sent"


def test_who_made_a_run_is_named_not_coded(viewer_client, runs):
    html = viewer_client.get("/collections/").text
    assert "<td>bob@example.com</td>" in html and "user:" not in html
    made_by_key = make_run(datetime(2026, 1, 5, 10, tzinfo=core_clock.zone()), actor="api:ERP")
    detail = viewer_client.get(
        f"/collections/{made_by_key.id}", headers={"Accept-Language": "fr-BE"}
    )
    assert "par clé API ERP" in detail.text
