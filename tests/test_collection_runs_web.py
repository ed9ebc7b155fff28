"""The collections screens: the numbers before a run is made, the run with its file to
download, "mark as sent" and "cancel" — for admins, with CSRF; viewers only look."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from collector.accounts import creditor
from collector.core.clock import local_today
from collector.direct_debit import collection_runs, debits
from collector.direct_debit.models import CollectionRun, CollectionRunStatus
from collector.documents.models import Invoice, InvoiceState
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from tests.conftest import csrf_token
from tests.support.factories import make_announcement, make_invoice, make_mandate

NEW = "/collections/new"


@pytest.fixture
def payee(app):
    return creditor.update("Acme NV", "BE71 0961 2345 6769", "GKCCBEBB", "BE69ZZZ050D000000008")


def announced(amount="121.00", days=3) -> Invoice:
    """An invoice whose sent invitation announced its debit a few business days from now."""
    mandate = make_mandate()
    invoice = make_invoice(
        customer=mandate.customer, profile=mandate.profile, amount_due=Decimal(amount)
    )
    on = debits.next_business_day(local_today() + timedelta(days=days))
    make_announcement(invoice, mandate, on)
    return invoice


def until(days=7) -> str:
    return (local_today() + timedelta(days=days)).isoformat()


def runs() -> list[CollectionRun]:
    db.session.expire_all()
    return db.session.scalars(sa.select(CollectionRun)).all()


HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


def shown(client) -> dict[str, str]:
    """The preview's "Create" form, as the browser would post it."""
    html = client.get(NEW, query_string={"scheme": "CORE", "until": until()}).get_data(as_text=True)
    form = html[html.index('method="post" action="/collections/new"') :]
    return dict(HIDDEN.findall(form[: form.index("</form>")]))


def create(client, **data):
    """Post the preview's form; ``data`` stands in for it when the page offers none."""
    if not data:
        data = shown(client)
    else:
        data = {"csrf_token": csrf_token(client, NEW), "scheme": "CORE", "until": until(), **data}
    return client.post(NEW, data=data)


def made_run(app) -> CollectionRun:
    today = local_today()
    store = runtime_setup.document_store(app)
    return collection_runs.create_run(store, today, today + timedelta(days=7), "CORE", "test")


# -- who may do what ------------------------------------------------------------------------------


def test_the_pages_need_a_login(app, client):
    for path in ("/collections/", NEW, "/collections/1", "/collections/1/file"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_viewers_see_runs_but_cannot_make_send_or_cancel_them(app, payee, viewer_client):
    announced()
    run = made_run(app)
    assert viewer_client.get("/collections/").status_code == 200
    page = viewer_client.get(f"/collections/{run.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="mark-sent"' not in html and 'id="cancel-run"' not in html
    assert viewer_client.get(NEW).status_code == 403
    token = csrf_token(viewer_client, "/collections/")
    for path in (NEW, f"/collections/{run.id}/sent", f"/collections/{run.id}/cancel"):
        data = {"csrf_token": token, "scheme": "CORE", "until": until(), "reason": "x"}
        assert viewer_client.post(path, data=data).status_code == 403
    assert runs()[0].status == CollectionRunStatus.CREATED


def test_a_post_without_the_csrf_token_changes_nothing(app, payee, admin_client):
    invoice = announced()
    response = admin_client.post(NEW, data={"scheme": "CORE", "until": until()})
    assert response.status_code == 400
    assert runs() == []
    assert db.session.get(Invoice, invoice.id).state == InvoiceState.BOOKED

    run = made_run(app)
    for action in ("sent", "cancel"):
        admin_client.post(f"/collections/{run.id}/{action}", data={"reason": "no token"})
    assert runs()[0].status == CollectionRunStatus.CREATED


# -- the admin's way through -----------------------------------------------------------------


def test_the_new_run_page_shows_the_numbers_before_anything_is_made(app, payee, admin_client):
    announced("121.00")
    announced("50.25")
    silent = make_mandate()
    make_invoice(customer=silent.customer, profile=silent.profile)  # never announced

    form = admin_client.get(NEW).get_data(as_text=True)
    assert f'value="{until()}"' in form and 'id="create-run"' not in form

    response = admin_client.get(NEW, query_string={"scheme": "CORE", "until": until()})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "2 direct debits, €171.25" in html
    assert re.search(r'data-group="FRST [^"]+">.*?<td class="num">2</td>', html, re.S)
    assert 'data-reason="not_announced"' in html
    assert 'id="create-run"' in html
    assert runs() == []  # looking makes nothing


def test_a_bad_date_is_a_400_under_its_field(app, payee, admin_client):
    response = admin_client.get(NEW, query_string={"scheme": "CORE", "until": "31/31/2026"})
    assert response.status_code == 400
    assert 'data-field="until"' in response.get_data(as_text=True)


def test_an_incomplete_creditor_is_told_and_offered_no_button(app, admin_client):
    creditor.update("Acme NV", "BE71 0961 2345 6769", "GKCCBEBB", "")
    announced()
    html = admin_client.get(NEW, query_string={"scheme": "CORE", "until": until()}).get_data(
        as_text=True
    )
    assert 'id="creditor-problem"' in html and 'id="create-run"' not in html
    response = create(admin_client, count="1", total="121.00")
    assert response.status_code == 409
    assert "SEPA creditor identifier" in response.get_data(as_text=True)
    assert runs() == []


def test_make_download_and_mark_sent(app, payee, admin_client):
    invoice = announced()
    response = create(admin_client)
    [run] = runs()
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/collections/{run.id}")
    assert db.session.get(Invoice, invoice.id).state == InvoiceState.PENDING

    html = admin_client.get(f"/collections/{run.id}").get_data(as_text=True)
    assert invoice.number in html and f"DD-{run.id}-{invoice.id}" in html
    assert 'id="mark-sent"' in html and 'id="cancel-run"' in html

    download = admin_client.get(f"/collections/{run.id}/file")
    assert download.status_code == 200
    assert download.mimetype == "application/xml"
    assert download.headers["Content-Disposition"] == (
        f'attachment; filename="pain.008-run-{run.id}-{run.message_id}.xml"'
    )
    assert f"<MsgId>{run.message_id}</MsgId>".encode() in download.data

    token = csrf_token(admin_client, f"/collections/{run.id}")
    sent = admin_client.post(f"/collections/{run.id}/sent", data={"csrf_token": token})
    assert sent.status_code == 302
    assert runs()[0].status == CollectionRunStatus.SENT
    html = admin_client.get(f"/collections/{run.id}").get_data(as_text=True)
    assert 'id="cancel-run"' not in html and 'id="download"' in html

    again = admin_client.post(f"/collections/{run.id}/sent", data={"csrf_token": token})
    assert again.status_code == 409


def test_cancel_needs_a_reason_and_opens_the_documents(app, payee, admin_client):
    invoice = announced()
    create(admin_client)
    [run] = runs()
    token = csrf_token(admin_client, f"/collections/{run.id}")

    refused = admin_client.post(
        f"/collections/{run.id}/cancel", data={"csrf_token": token, "reason": " "}
    )
    assert refused.status_code == 400
    assert 'data-field="reason"' in refused.get_data(as_text=True)
    assert runs()[0].status == CollectionRunStatus.CREATED

    done = admin_client.post(
        f"/collections/{run.id}/cancel", data={"csrf_token": token, "reason": "Wrong date"}
    )
    assert done.status_code == 302
    assert runs()[0].status == CollectionRunStatus.CANCELLED
    assert db.session.get(Invoice, invoice.id).state == InvoiceState.BOOKED
    listing = admin_client.get("/collections/").get_data(as_text=True)
    assert f'data-run="{run.id}"' in listing and "cancelled" in listing


def test_what_changed_since_the_preview_is_not_collected_unseen(app, payee, admin_client):
    first = announced()
    form = shown(admin_client)
    assert (form["count"], form["total"]) == ("1", "121.00")
    announced("80.00")  # announced while the admin was reading

    response = admin_client.post(NEW, data=form)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "now 2 direct debits for €201.00" in html and "2 direct debits, €201.00" in html
    assert runs() == [] and db.session.get(Invoice, first.id).state == InvoiceState.BOOKED


def test_nothing_to_collect_is_a_409_with_the_reason(app, payee, admin_client):
    response = create(admin_client, count="0", total="0")
    assert response.status_code == 409
    assert "Nothing to collect" in response.get_data(as_text=True)


def test_an_unknown_run_is_a_404(app, admin_client):
    assert admin_client.get("/collections/999").status_code == 404
    assert admin_client.get("/collections/999/file").status_code == 404


def test_the_document_page_lists_its_direct_debits(app, payee, admin_client):
    invoice = announced()
    run = made_run(app)
    html = admin_client.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    row = html[html.index(f'data-collection="DD-{run.id}-{invoice.id}"') :]
    row = row[: row.index("</tr>")]
    assert f'href="/collections/{run.id}"' in row
    assert run.collections[0].mandate.reference in row
    assert "FRST" in row and "pending" in row
