"""The PDF behind login, the payment page behind its token, and the overview's buttons
that start PDF downloads and invitations as jobs (asking first before inviting twice)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from collector.documents.models import DocumentMail, DocumentMailStatus, InvoiceState
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from collector.runtime.models import JobRun
from collector.teamleader import pdfs
from tests.conftest import csrf_token
from tests.support.factories import make_customer, make_invoice, make_profile

PDF = b"%PDF-1.7\n% a test document\n%%EOF\n"
AT = datetime(2026, 11, 2, tzinfo=UTC)


def with_pdf(app, invoice):
    pdfs.store_pdf(invoice, runtime_setup.document_store(app).put(PDF), len(PDF), "test", AT)
    db.session.commit()
    return invoice


def sent_invitation(invoice, status=DocumentMailStatus.SENT):
    row = DocumentMail(
        invoice_id=invoice.id,
        kind="invitation",
        key="invitation",
        status=status,
        recipient=invoice.customer.email,
        sent_at=AT,
        attempts=1,
    )
    db.session.add(row)
    db.session.commit()
    return row


# -- the PDF ------------------------------------------------------------------------------


def test_the_pdf_is_served_to_logged_in_users(app, viewer_client):
    invoice = with_pdf(app, make_invoice(number="2026/0042"))
    response = viewer_client.get(f"/invoices/{invoice.id}/pdf")
    assert response.status_code == 200
    assert response.data == PDF
    assert response.mimetype == "application/pdf"
    assert 'filename="invoice-2026-0042.pdf"' in response.headers["Content-Disposition"]


def test_no_pdf_is_served_to_anonymous_users(app, client):
    invoice = with_pdf(app, make_invoice())
    response = client.get(f"/invoices/{invoice.id}/pdf")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_document_without_pdf_answers_404(app, admin_client):
    assert admin_client.get(f"/invoices/{make_invoice().id}/pdf").status_code == 404


def test_overview_links_the_pdf_and_detail_shows_it(app, admin_client):
    invoice = with_pdf(app, make_invoice())
    page = admin_client.get("/invoices/").get_data(as_text=True)
    assert f'href="/invoices/{invoice.id}/pdf"' in page
    detail = admin_client.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    assert f'<object class="pdf" data="/invoices/{invoice.id}/pdf"' in detail
    assert f'href="/pay/{invoice.payment_token}"' in detail


# -- the payment page ---------------------------------------------------------------------


def test_the_payment_page_shows_its_document_only(app, client):
    # An English-speaking customer: the page speaks the customer's language.
    english = make_customer(language="en")
    mine = with_pdf(
        app,
        make_invoice(
            number="2026/0042", payment_reference="+++090/9337/55493+++", customer=english
        ),
    )
    other = make_invoice(number="2026/0043")
    response = client.get(f"/pay/{mine.payment_token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Invoice 2026/0042" in page and "€121.00" in page and "+++090/9337/55493+++" in page
    assert other.number not in page and other.customer.name not in page
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    pdf = client.get(f"/pay/{mine.payment_token}/document.pdf")
    assert pdf.status_code == 200 and pdf.data == PDF


@pytest.mark.parametrize("token", ["x" * 43, "short", "../../etc/passwd", "a" * 500, "%00"])
def test_an_unknown_payment_token_is_a_plain_404(app, client, token):
    make_invoice()
    response = client.get(f"/pay/{token}")
    assert response.status_code == 404
    assert client.get(f"/pay/{token}/document.pdf").status_code == 404


def test_the_payment_page_of_a_paid_invoice_says_so(app, client):
    invoice = make_invoice(state=InvoiceState.PAID, customer=make_customer(language="en"))
    page = client.get(f"/pay/{invoice.payment_token}").get_data(as_text=True)
    assert 'data-state="paid"' in page and "has been paid" in page


def test_payment_tokens_are_long_random_and_distinct(app):
    tokens = {make_invoice().payment_token for _ in range(20)}
    assert len(tokens) == 20
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", t) for t in tokens)


# -- the buttons --------------------------------------------------------------------------


def act(client, ids, action, **extra):
    data = {"csrf_token": csrf_token(client, "/invoices/"), "action": action, "ids": ids}
    return client.post("/invoices/actions", data={**data, **extra})


def job_runs() -> list[JobRun]:
    return list(db.session.scalars(db.select(JobRun).order_by(JobRun.id)))


def test_download_pdf_documents_starts_a_job_with_the_selection(app, admin_client, admin):
    a, b = make_invoice(), make_invoice()
    response = act(admin_client, [str(a.id), str(b.id)], "fetch_pdfs")
    [run] = job_runs()
    assert run.name == "fetch_pdfs" and run.args == [[a.id, b.id], f"user:{admin.email}"]
    assert run.user_id == admin.id
    assert response.headers["Location"].endswith(f"/jobs/{run.job_id}")


def test_send_invitations_starts_a_job_when_none_was_sent(app, admin_client, admin):
    invoice = make_invoice(profile=make_profile())
    act(admin_client, [str(invoice.id)], "send_invitations")
    [run] = job_runs()
    assert run.name == "send_invitations"
    assert run.args == [[invoice.id], f"user:{admin.email}", False]


def test_inviting_again_asks_first_and_lists_who_already_received_one(app, admin_client):
    invited, fresh = make_invoice(), make_invoice()
    sent_invitation(invited)

    response = act(admin_client, [str(invited.id), str(fresh.id)], "send_invitations")

    page = response.get_data(as_text=True)
    assert response.status_code == 200 and job_runs() == []
    assert "1 of the 2 selected document(s) already received an invitation" in page
    assert f'<tr data-invoice="{invited.id}">' in page
    assert f'<tr data-invoice="{fresh.id}">' not in page
    assert "Send only to the 1 not invited yet" in page

    act(admin_client, [str(invited.id), str(fresh.id)], "send_invitations", again="0")
    act(admin_client, [str(invited.id), str(fresh.id)], "send_invitations", again="1")
    assert [r.args[2] for r in job_runs()] == [False, True]


def test_bad_selections_start_nothing(app, admin_client):
    invoice = make_invoice()
    for ids, action in [
        ([], "fetch_pdfs"),
        (["abc"], "fetch_pdfs"),
        ([str(invoice.id)], "delete_everything"),
        ([str(invoice.id + 1000)], "send_invitations"),
        ([str(invoice.id)] * 501, "fetch_pdfs"),
    ]:
        response = act(admin_client, ids, action)
        assert response.status_code == 302
    assert job_runs() == []


def test_buttons_need_the_csrf_token(app, admin_client):
    invoice = make_invoice()
    no_token = admin_client.post(
        "/invoices/actions", data={"action": "fetch_pdfs", "ids": [str(invoice.id)]}
    )
    assert no_token.status_code == 400 and job_runs() == []


def test_viewers_cannot_start_jobs(app, viewer_client):
    invoice = make_invoice()
    response = act(viewer_client, [str(invoice.id)], "fetch_pdfs")  # the token of the logout form
    assert response.status_code == 403 and job_runs() == []
    page = viewer_client.get("/invoices/").get_data(as_text=True)
    assert 'name="ids"' not in page


def test_detail_lists_the_emails_to_the_customer(app, admin_client):
    invoice = make_invoice()
    sent_invitation(invoice)
    page = admin_client.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    assert '<tr data-mail="invitation">' in page
    assert invoice.customer.email in page
    assert 'value="send_invitations"' in page
