"""Bulk actions on the invoice list (issue 18, part 2): tick documents (or all on the
page), then send their invitations (asking first when some had one), fetch their PDFs,
or export just them as CSV or XLSX. An admin's form with its CSRF token; a bad or stale
selection says why and changes nothing."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest

from collector.core import clock
from collector.documents.models import (
    DocumentKind,
    DocumentMail,
    DocumentMailKind,
    DocumentMailStatus,
)
from collector.extensions import db
from collector.runtime.models import JobRun
from tests.conftest import csrf_token
from tests.support.factories import make_customer, make_invoice

FORM = re.compile(r'<form method="post" action="/invoices/actions"[^>]*>.*?</form>', re.S)
DUTCH = {"Accept-Language": "nl-BE"}


@pytest.fixture
def documents(app):
    """Three documents of three customers, Bravo's a credit note; names sort them."""
    today = clock.local_today()
    alpha = make_invoice(customer=make_customer(name="Alpha"), amount_due=Decimal("40.50"))
    bravo = make_invoice(
        customer=make_customer(name="Bravo"),
        kind=DocumentKind.CREDIT_NOTE,
        total_incl_vat=Decimal("1234.56"),
        amount_due=Decimal("0.00"),
    )
    charlie = make_invoice(
        customer=make_customer(name="Charlie"),
        due_date=today - timedelta(days=12),
        number="=HYPERLINK(1)",  # typed in Teamleader: text, never a formula
    )
    return alpha, bravo, charlie


def act(client, ids, action, headers=None, **extra):
    data = {"csrf_token": csrf_token(client, "/invoices/"), "action": action, "ids": ids}
    return client.post("/invoices/actions", data={**data, **extra}, headers=headers or {})


def job_runs() -> list[JobRun]:
    return list(db.session.scalars(db.select(JobRun).order_by(JobRun.id)))


def ids_of(*documents) -> list[str]:
    return [str(d.id) for d in documents]


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


# -- the form ----------------------------------------------------------------------------


def test_the_list_offers_a_checkbox_per_row_select_all_and_the_actions(admin_client, documents):
    page = admin_client.get("/invoices/?sort=customer").get_data(as_text=True)
    form = FORM.search(page).group(0)

    assert 'name="csrf_token"' in form
    assert "data-select-all" in form and 'aria-label="Select all on this page"' in form
    assert re.findall(r'name="ids" value="(\d+)"', form) == ids_of(*documents)
    for action in ("send_invitations", "fetch_pdfs", "export_csv", "export_xlsx"):
        assert f'name="action" value="{action}"' in form, action
    # An export keeps the list's order.
    assert '<input type="hidden" name="sort" value="customer">' in form


def test_a_viewer_sees_no_selection_and_cannot_act(viewer_client, documents):
    page = viewer_client.get("/invoices/").get_data(as_text=True)
    assert not FORM.search(page) and 'name="ids"' not in page

    for action in ("send_invitations", "fetch_pdfs", "export_csv"):
        response = act(viewer_client, ids_of(*documents), action)  # the logout form's token
        assert response.status_code == 403, action
    assert job_runs() == []


def test_without_the_csrf_token_nothing_happens(admin_client, documents):
    for action in ("send_invitations", "export_csv"):
        data = {"action": action, "ids": ids_of(*documents)}
        response = admin_client.post("/invoices/actions", data=data)
        assert response.status_code == 400, action
        assert response.mimetype != "text/csv"
    assert job_runs() == []


# -- exporting the selection ---------------------------------------------------------------


def test_export_the_selected_as_csv_in_the_lists_order(admin_client, documents):
    alpha, bravo, charlie = documents
    response = act(admin_client, ids_of(charlie, bravo), "export_csv", sort="-customer")

    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="documents-selected-{clock.local_today().isoformat()}.csv"'
    )
    assert response.headers["Cache-Control"] == "private, no-store"
    header, *rows = read_csv(response)
    assert header[:3] == ["Number", "Kind", "Customer"]
    assert [row[2] for row in rows] == ["Charlie", "Bravo"]  # Alpha was not ticked
    charlie_row, bravo_row = rows
    assert charlie_row[0] == "'=HYPERLINK(1)"
    assert charlie_row[4] == charlie.invoice_date.isoformat()  # machine dates
    assert charlie_row[6] == "12"
    assert bravo_row[8] == "-1234.56"  # a credit note negative, with a decimal point


def test_export_the_selected_as_xlsx(admin_client, documents):
    alpha, bravo, charlie = documents
    response = act(admin_client, ids_of(alpha, bravo), "export_xlsx", sort="customer")

    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Number", "Kind", "Customer")
    assert [row[2] for row in rows[1:]] == ["Alpha", "Bravo"]
    assert rows[2][8] == -1234.56  # a number the spreadsheet adds up


def test_the_export_speaks_the_readers_language_but_keeps_machine_values(admin_client, documents):
    alpha, bravo, _charlie = documents
    response = act(admin_client, ids_of(alpha, bravo), "export_csv", DUTCH, sort="customer")

    header, alpha_row, bravo_row = read_csv(response)
    assert header[:6] == ["Nummer", "Soort", "Klant", "Klantnummer", "Factuurdatum", "Vervaldatum"]
    assert bravo_row[1] == "credit note" and bravo_row[8] == "-1234.56"
    assert alpha_row[4] == alpha.invoice_date.isoformat() and alpha_row[9] == "40.50"

    workbook = act(admin_client, ids_of(alpha), "export_xlsx", {"Accept-Language": "fr-BE"})
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.get_data())).active
    assert sheet.title == "Documents"
    assert next(sheet.iter_rows(values_only=True))[:3] == ("Numéro", "Type", "Client")


def test_the_filtered_list_export_is_in_the_readers_language_too(viewer_client, documents):
    response = viewer_client.get("/invoices/export.csv", headers={"Accept-Language": "fr-BE"})
    assert read_csv(response)[0][:3] == ["Numéro", "Type", "Client"]


# -- sending invitations to the selection --------------------------------------------------


def test_invitations_to_the_selection_ask_first_when_some_had_one(admin_client, documents):
    alpha, _bravo, charlie = documents
    db.session.add(
        DocumentMail(
            invoice_id=alpha.id,
            kind=DocumentMailKind.INVITATION,
            key="invitation",
            status=DocumentMailStatus.SENT,
            recipient="billing@example.com",
        )
    )
    db.session.commit()
    back = "/invoices/?sort=customer"

    asked = act(admin_client, ids_of(alpha, charlie), "send_invitations", back=back)

    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and job_runs() == []
    assert f'<tr data-invoice="{alpha.id}">' in page
    assert "Send only to the 1 not invited yet" in page
    assert f'href="{back}"' in page  # Cancel goes back to the list as it was

    started = act(admin_client, ids_of(alpha, charlie), "send_invitations", again="0")
    [run] = job_runs()
    assert run.name == "send_invitations" and run.args[0] == [alpha.id, charlie.id]
    assert run.args[2] is False
    assert started.headers["Location"].endswith(f"/jobs/{run.job_id}")


def test_the_confirm_step_speaks_the_readers_language(admin_client, documents):
    alpha, _bravo, charlie = documents
    db.session.add(
        DocumentMail(
            invoice_id=alpha.id,
            kind=DocumentMailKind.INVITATION,
            key="invitation",
            status=DocumentMailStatus.SENT,
        )
    )
    db.session.commit()
    page = act(admin_client, ids_of(alpha, charlie), "send_invitations", DUTCH).get_data(
        as_text=True
    )
    assert "Sommige kregen al een uitnodiging" in page
    assert "Enkel versturen naar 1 nog niet uitgenodigd document" in page
    assert "already received" not in page


# -- selections that are refused -------------------------------------------------------------


@pytest.mark.parametrize(
    ("ids", "action", "message"),
    [
        ([], "export_csv", "Select at least one document."),
        (["abc"], "send_invitations", "Select between 1 and 500 documents."),
        (["²"], "fetch_pdfs", "Select between 1 and 500 documents."),  # a digit to isdigit()
        (["1" * 12], "export_xlsx", "Select between 1 and 500 documents."),
        (["1"] * 501, "fetch_pdfs", "Select between 1 and 500 documents."),
        ("known", "delete_everything", "Choose what to do with the selected documents."),
        ("known", "", "Choose what to do with the selected documents."),
        (
            "one gone",
            "send_invitations",
            "1 of the selected documents no longer exists; reload the page and select again.",
        ),
    ],
)
def test_a_bad_selection_says_why_and_changes_nothing(
    admin_client, documents, ids, action, message
):
    alpha = documents[0]
    if ids == "known":
        ids = ids_of(alpha)
    elif ids == "one gone":
        ids = [str(alpha.id), str(max(d.id for d in documents) + 1000)]
    back = "/invoices/?sort=customer"

    response = act(admin_client, ids, action, back=back)

    assert response.status_code == 302 and response.headers["Location"] == back
    assert job_runs() == []
    assert db.session.scalars(db.select(DocumentMail)).all() == []
    page = admin_client.get(back).get_data(as_text=True)
    assert message in page


def test_a_refusal_is_said_in_the_readers_language(admin_client, documents):
    response = act(admin_client, [], "export_csv", DUTCH)
    page = admin_client.get(response.headers["Location"], headers=DUTCH).get_data(as_text=True)
    assert "Selecteer minstens één document." in page


def test_the_way_back_stays_on_the_site(admin_client, documents):
    for away in ("https://evil.example/", "//evil.example/", "/\\evil.example/"):
        response = act(admin_client, [], "export_csv", back=away)
        assert response.headers["Location"] == "/invoices/", away


def test_an_unknown_sort_exports_in_the_default_order(admin_client, documents):
    response = act(admin_client, ids_of(*documents), "export_csv", sort="password")
    assert response.status_code == 200
    assert len(read_csv(response)) == 1 + len(documents)
