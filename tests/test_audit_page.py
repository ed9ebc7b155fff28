"""Settings → Audit log: admins only, newest first, filtered by group, actor and local
dates, paged by keyset, exported as CSV with formulas kept as text."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from collector.accounts.models import AuditEvent
from collector.extensions import db
from tests.support.factories import make_invoice

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def admin_client(admin_client):
    """The admin's client, without the audit row of its own login: each test sees the
    rows it adds."""
    db.session.execute(sa.delete(AuditEvent))
    db.session.commit()
    return admin_client


def add(action: str, *, actor: str = "user:ann@example.com", at: datetime = T0, **kw) -> AuditEvent:
    row = AuditEvent(action=action, actor=actor, at=at, target=kw.pop("target", ""), details=kw)
    db.session.add(row)
    db.session.commit()
    return row


def shown(html: str) -> list[str]:
    return re.findall(r'data-action="([^"]+)"', html)


def test_viewers_are_refused_the_page_and_the_export(viewer_client, app):
    assert viewer_client.get("/settings/audit").status_code == 403
    assert viewer_client.get("/settings/audit/export.csv").status_code == 403


def test_the_link_is_in_the_settings_navigation_for_admins_only(admin_client, app):
    html = admin_client.get("/settings/creditor").get_data(as_text=True)
    assert 'href="/settings/audit"' in html and 'href="/settings/api-keys"' in html


def test_newest_first_worded_with_the_target_linked(admin_client, app):
    invoice = make_invoice()
    add("profile.created", target="profile:999")
    add("api_key.created", target="api_key:3", at=T0 - timedelta(hours=1))
    add("invoice.marked_paid", target=f"invoice:{invoice.id}", reason="cash")
    html = admin_client.get("/settings/audit").get_data(as_text=True)
    assert shown(html) == ["invoice.marked_paid", "profile.created", "api_key.created"]
    assert "Marked paid by hand" in html
    assert f'href="/invoices/{invoice.id}"' in html
    assert '<a href="/profiles/999">profile:999</a>' in html
    assert '<a href="/settings/api-keys">api_key:3</a>' in html
    assert "reason: cash" in html


def test_who_is_said_as_the_timeline_says_it(admin_client, app):
    add("hold.placed", actor="api:ERP")
    add("settings.changed", actor="system", at=T0 + timedelta(hours=1))
    html = admin_client.get("/settings/audit").get_data(as_text=True)
    assert "API key ERP" in html and "the system" in html
    assert "api:ERP" not in html


def test_the_page_speaks_the_readers_language(admin_client, app):
    add("invoice.archived")
    html = admin_client.get("/settings/audit", headers={"Accept-Language": "nl"}).get_data(
        as_text=True
    )
    assert "Auditlog" in html or "Audit" in html
    assert "Document gearchiveerd" in html


def test_newest_first_is_by_time_whatever_order_rows_came_in(admin_client, app):
    add("hold.lifted", at=T0 + timedelta(hours=2))
    add("hold.placed", at=T0)
    add("invoice.archived", at=T0 + timedelta(hours=1))
    html = admin_client.get("/settings/audit").get_data(as_text=True)
    assert shown(html) == ["hold.lifted", "invoice.archived", "hold.placed"]


def test_filters_by_group_and_actor(admin_client, app):
    add("api_key.created", actor="user:ann@example.com")
    add("hold.placed", actor="user:bob@example.com")
    add("hold.lifted", actor="api:ERP")
    by_group = admin_client.get("/settings/audit?group=holds").get_data(as_text=True)
    assert shown(by_group) == ["hold.lifted", "hold.placed"]
    by_actor = admin_client.get("/settings/audit?actor=BOB").get_data(as_text=True)
    assert shown(by_actor) == ["hold.placed"]
    both = admin_client.get("/settings/audit?group=api_keys&actor=bob").get_data(as_text=True)
    assert shown(both) == []


def test_dates_are_the_companys_local_days(admin_client, app):
    # 23:30 UTC on 30 November is already 1 December in Brussels.
    add("hold.placed", at=datetime(2026, 11, 30, 22, 30, tzinfo=UTC))
    add("hold.lifted", at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
    add("invoice.archived", at=datetime(2026, 12, 1, 22, 59, tzinfo=UTC))
    add("invoice.marked_paid", at=datetime(2026, 12, 1, 23, 0, tzinfo=UTC))
    day = admin_client.get("/settings/audit?date_from=2026-12-01&date_to=2026-12-01")
    assert shown(day.get_data(as_text=True)) == ["invoice.archived", "hold.lifted"]


def test_bad_filters_are_a_400_with_the_reason(admin_client, app):
    response = admin_client.get("/settings/audit?date_from=2026-12-05&date_to=2026-12-01")
    assert response.status_code == 400
    assert 'data-field="date_to"' in response.get_data(as_text=True)
    assert admin_client.get("/settings/audit?group=nope").status_code == 400


def test_pages_by_keyset_older_and_newer(admin_client, app):
    rows = [add("hold.placed", at=T0 + timedelta(minutes=n), n=n) for n in range(120)]
    first = admin_client.get("/settings/audit").get_data(as_text=True)
    assert first.count('data-action="hold.placed"') == 50
    assert "n: 119" in first and "n: 70" in first and "n: 69" not in first
    older = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = admin_client.get(older).get_data(as_text=True)
    assert "n: 69" in second and "n: 20" in second and "n: 119" not in second
    newer = re.search(r'rel="prev" href="([^"]+)"', second).group(1).replace("&amp;", "&")
    back = admin_client.get(newer).get_data(as_text=True)
    assert "n: 119" in back and "n: 70" in back and "n: 69" not in back
    last = admin_client.get(f"/settings/audit?before={rows[20].id}").get_data(as_text=True)
    assert last.count('data-action="hold.placed"') == 20
    assert 'rel="next"' not in last


def test_pages_keep_the_filter(admin_client, app):
    for n in range(60):
        add("hold.placed", n=n)
        add("invoice.archived", n=n)
    first = admin_client.get("/settings/audit?group=holds").get_data(as_text=True)
    older = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "group=holds" in older
    assert set(shown(admin_client.get(older).get_data(as_text=True))) == {"hold.placed"}


def test_the_export_holds_the_filtered_rows_with_formulas_as_text(admin_client, app):
    add("hold.placed", actor='=HYPERLINK("http://evil")', note="+SUM(A1)")
    add("invoice.archived", actor="user:ann@example.com")
    response = admin_client.get("/settings/audit/export.csv?group=holds")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    header, *lines = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert header[:3] == ["Time", "Actor", "Action"]
    assert len(lines) == 1
    [line] = lines
    assert line[1] == '\'=HYPERLINK("http://evil")'
    assert line[2] == "hold.placed" and line[3] == "Hold placed"
    assert line[5] == "note: +SUM(A1)"  # not at the start of the cell: no formula
    assert line[0].startswith("2026-11-02T10:00:00+01:00")  # company local time
