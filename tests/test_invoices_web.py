"""The documents overview and a document's page: filters, paging, links, timeline."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask import url_for

from collector.documents.models import DocumentKind, InvoiceState
from collector.extensions import db
from collector.teamleader.models import DocumentImport, ImportSource
from collector.teamleader.models import TeamleaderConnection as Connection
from collector.web.filters import format_date
from tests.support.factories import make_customer, make_event, make_invoice, make_profile
from tests.test_invoice_list import totals_of

ROW = re.compile(r'<tr data-invoice="(\d+)"')


def shown(response) -> list[int]:
    """The ids of the documents in the overview's table, in page order."""
    return [int(i) for i in ROW.findall(response.get_data(as_text=True))]


@pytest.fixture
def docs(app):
    """Three documents that each filter tells apart."""
    p1, p2 = make_profile(name="SEPA"), make_profile(name="Transfer")
    c1, c2 = make_customer(name="Acme"), make_customer(name="Brol")
    a = make_invoice(
        number="2026/0101",
        customer=c1,
        profile=p1,
        department_id="dep-be",
        invoice_date=date(2026, 10, 1),
        pdf_key="pdfs/a.pdf",
    )
    b = make_invoice(
        kind=DocumentKind.CREDIT_NOTE,
        number="CN2026/0007",
        customer=c2,
        profile=p2,
        department_id="dep-nl",
        invoice_date=date(2026, 11, 15),
        state=InvoiceState.ARCHIVED,
    )
    c = make_invoice(
        number="2026/0202",
        teamleader_id="tl-special",
        customer=c1,
        department_id="dep-be",
        invoice_date=date(2026, 12, 31),
        state=InvoiceState.PAID,
    )
    return {"a": a, "b": b, "c": c, "p1": p1, "p2": p2, "c1": c1, "c2": c2}


FILTERS = [
    ({"kind": "credit_note"}, {"b"}),
    ({"kind": "invoice"}, {"a", "c"}),
    ({"state": "PAID"}, {"c"}),
    ({"profile_id": "p1"}, {"a"}),
    ({"customer_id": "c1"}, {"a", "c"}),
    ({"department_id": "dep-nl"}, {"b"}),
    ({"date_from": "2026-11-15"}, {"b", "c"}),
    ({"date_to": "2026-11-15"}, {"a", "b"}),
    ({"date_from": "2026-11-15", "date_to": "2026-11-15"}, {"b"}),
    ({"q": "cn2026"}, {"b"}),
    ({"q": "0202"}, {"c"}),
    ({"q": "tl-special"}, {"c"}),
    ({"q": "tl-spec"}, set()),  # a Teamleader id matches whole only
    ({"q": "%"}, set()),  # LIKE wildcards are taken literally
    ({"q": "_"}, set()),
    ({"pdf": "yes"}, {"a"}),
    ({"pdf": "no"}, {"b", "c"}),
    ({"state": "BOOKED", "profile_id": "p1"}, {"a"}),
    ({"state": "PAID", "profile_id": "p1"}, set()),
    ({"kind": "", "q": " "}, {"a", "b", "c"}),  # blank fields of the form mean "any"
]


def resolve(args: dict, docs: dict) -> dict:
    """Replace the fixture names p1/c1… by the rows' ids."""
    return {k: str(docs[v].id) if v in docs else v for k, v in args.items()}


@pytest.mark.parametrize(("args", "expected"), FILTERS)
def test_each_filter_narrows_the_overview(admin_client, docs, args, expected):
    response = admin_client.get("/invoices/", query_string=resolve(args, docs))
    assert response.status_code == 200
    assert set(shown(response)) == {docs[name].id for name in expected}


def test_a_teamleader_uuid_finds_its_document(admin_client, docs):
    wanted = make_invoice(teamleader_id="6c1f3b1e-2d4a-4e7b-9f0a-1b2c3d4e5f60")
    response = admin_client.get("/invoices/", query_string={"q": wanted.teamleader_id})
    assert shown(response) == [wanted.id]


def test_newest_invoice_date_first_then_newest_id(admin_client, docs):
    same_day = make_invoice(invoice_date=date(2026, 12, 31))
    response = admin_client.get("/invoices/")
    assert shown(response) == [same_day.id, docs["c"].id, docs["b"].id, docs["a"].id]


def test_overview_columns(admin_client, docs):
    big = make_invoice(customer=docs["c1"], amount_due=Decimal("1234.5"), number="BIG-1")
    page = admin_client.get("/invoices/", query_string={"q": "BIG-1"}).get_data(as_text=True)
    assert ">BIG-1</a>" in page
    assert f'href="/customers/{docs["c1"].id}">Acme</a>' in page
    # Dates as the template filter writes them ("19 Nov 2026"), on one line each.
    assert f'<td class="date">{format_date(big.invoice_date)}</td>' in page
    assert f'<td class="date">{format_date(big.due_date)}</td>' in page
    assert "€121.00" in page and "€1,234.50" in page
    assert '<span class="badge badge-booked">open</span>' in page  # BOOKED, as people say it
    assert 'data-pdf="no"' in page


def test_profile_and_pdf_columns(admin_client, docs):
    page = admin_client.get("/invoices/", query_string={"q": "2026/0101"}).get_data(as_text=True)
    assert "<td>SEPA</td>" in page
    assert 'data-pdf="yes"' in page


def test_pages_keep_the_filter(admin_client, app):
    ids = [make_invoice(invoice_date=date(2026, 11, day)).id for day in (1, 2, 3)]
    make_invoice(kind=DocumentKind.CREDIT_NOTE, invoice_date=date(2026, 11, 4))
    first = admin_client.get("/invoices/?kind=invoice&per_page=2")
    page = first.get_data(as_text=True)
    assert shown(first) == [ids[2], ids[1]]
    assert 'data-pager="position">Page 1<' in page
    assert "Page 1 of 2" in totals_of(admin_client, first).get_data(as_text=True)
    next_link = re.search(r'<a rel="next" href="([^"]+)"', page).group(1)
    assert "kind=invoice" in next_link and "page=2" in next_link
    second = admin_client.get(next_link.replace("&amp;", "&"))
    assert shown(second) == [ids[0]]
    assert "Page 2 of 2" in totals_of(admin_client, second).get_data(as_text=True)
    assert 'rel="prev"' in second.get_data(as_text=True)


def test_page_past_the_end_is_empty_but_knows_the_total(admin_client, docs):
    response = admin_client.get("/invoices/?per_page=2&page=5")
    assert shown(response) == []
    assert 'data-pager="position">Page 5<' in response.get_data(as_text=True)
    counted = totals_of(admin_client, response).get_data(as_text=True)
    assert "Page 5 of 2" in counted and "3 in all" in counted


@pytest.mark.parametrize(
    ("args", "field", "message"),
    [
        ({"date_from": "2026-12-01", "date_to": "2026-11-01"}, "date_to", "before the start"),
        ({"state": "LOST"}, "state", "Must be one of"),
        ({"date_from": "yesterday"}, "date_from", "Not a valid date"),
        ({"colour": "red"}, "colour", "does not know this parameter"),
    ],
)
def test_bad_filter_is_explained(admin_client, docs, args, field, message):
    response = admin_client.get("/invoices/", query_string=args)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'data-field="{field}"' in page and message in page
    assert shown(response) == []


def test_department_choices_come_from_the_connection(admin_client, docs):
    departments = [{"id": "dep-be", "name": "Acme BV", "currency": "EUR"}]
    db.session.add(Connection(account_id="acc", webhook_token="t", departments=departments))
    db.session.commit()
    page = admin_client.get("/invoices/").get_data(as_text=True)
    assert re.search(r'<option value="dep-be"\s*>Acme BV</option>', page)
    detail = admin_client.get(f"/invoices/{docs['a'].id}").get_data(as_text=True)
    assert "<dd>Acme BV</dd>" in detail


def test_detail_shows_the_document_and_its_links(admin_client, docs):
    invoice = make_invoice(
        number="2026/0300",
        customer=docs["c1"],
        profile=docs["p1"],
        payment_reference="+++090/9337/55493+++",
        teamleader_url="https://focus.teamleader.eu/invoice_detail.php?id=77",
    )
    note = make_invoice(
        kind=DocumentKind.CREDIT_NOTE,
        number="CN2026/0300",
        customer=docs["c1"],
        credited_invoice=invoice,
    )
    page = admin_client.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    assert "Invoice 2026/0300" in page
    assert f'href="/customers/{docs["c1"].id}">Acme</a>' in page
    assert 'href="https://focus.teamleader.eu/invoice_detail.php?id=77"' in page
    assert "+++090/9337/55493+++" in page
    assert "€100.00" in page and "€21.00" in page and "€121.00" in page
    assert f'href="/invoices/{note.id}">CN2026/0300</a>' in page
    note_page = admin_client.get(f"/invoices/{note.id}").get_data(as_text=True)
    assert "Credit note CN2026/0300" in note_page
    assert f'href="/invoices/{invoice.id}">2026/0300</a>' in note_page


def test_teamleader_link_must_be_http(admin_client, app):
    invoice = make_invoice(teamleader_url="javascript:alert(1)")
    page = admin_client.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    assert "javascript:" not in page


def test_credit_note_for_an_invoice_not_here_yet(admin_client, app):
    note = make_invoice(kind=DocumentKind.CREDIT_NOTE, credited_teamleader_id="tl-missing")
    page = admin_client.get(f"/invoices/{note.id}").get_data(as_text=True)
    assert "not imported yet" in page and "tl-missing" in page


def test_detail_names_the_import(admin_client, app):
    run = DocumentImport(source=ImportSource.MANUAL)
    db.session.add(run)
    db.session.commit()
    invoice = make_invoice(document_import=run)
    page = admin_client.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    with app.test_request_context():
        url = url_for("imports.detail", import_id=run.id)
    assert f'<a href="{url}">import #{run.id}</a>' in page


def test_timeline_newest_first(admin_client, app):
    invoice = make_invoice()
    make_event(invoice, kind="imported", occurred_at=datetime(2026, 11, 1, 9, tzinfo=UTC))
    make_event(
        invoice,
        kind="state_changed",
        message="Paid by transfer",
        occurred_at=datetime(2026, 11, 20, 9, tzinfo=UTC),
    )
    make_event(invoice, kind="invitation_sent", occurred_at=datetime(2026, 11, 2, 9, tzinfo=UTC))
    page = admin_client.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    kinds = re.findall(r'<li data-event="([a-z_]+)"', page)
    assert kinds == ["state_changed", "invitation_sent", "imported"]
    assert "Paid by transfer" in page


def test_unknown_document_is_404(admin_client, app):
    assert admin_client.get("/invoices/4242").status_code == 404


def test_viewer_can_read(viewer_client, docs):
    assert set(shown(viewer_client.get("/invoices/"))) == {
        d.id for d in (docs["a"], docs["b"], docs["c"])
    }
    assert viewer_client.get(f"/invoices/{docs['a'].id}").status_code == 200


def test_anonymous_is_sent_to_login(client, docs):
    for path in ("/invoices/", f"/invoices/{docs['a'].id}"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
