"""Issue 19, part 3, in the finance UI: a hold set and lifted from the document page,
the customer page and the invoice list's selection; notes; what the document page, the
run preview and the dashboard say about them, in Dutch, French and English. Forms carry
their CSRF token; a refused one says why and writes nothing."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
import sqlalchemy as sa

from collector.accounts import creditor
from collector.core.formatting import format_date
from collector.documents import timeline
from collector.documents.models import InvoiceEvent
from collector.dunning import holds
from collector.dunning.models import Hold, Note
from collector.extensions import db
from tests.conftest import csrf_token
from tests.support.factories import make_announcement, make_customer, make_invoice, make_mandate

FRENCH = {"Accept-Language": "fr-BE"}
DUTCH = {"Accept-Language": "nl-BE"}
ENGLISH = {"Accept-Language": "en"}


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def hold_rows() -> list[Hold]:
    return list(db.session.scalars(sa.select(Hold).order_by(Hold.id)))


def test_a_document_is_put_on_hold_from_its_page_and_the_page_says_why(admin_client, clock):
    invoice = make_invoice()
    page = f"/invoices/{invoice.id}"
    token = csrf_token(admin_client, page)
    response = admin_client.post(
        f"/invoices/{invoice.id}/hold",
        data={
            "hold-csrf_token": token,
            "hold-reason": "disputed",
            "hold-note": "Goods not delivered",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{page}#holds")
    [hold] = hold_rows()
    assert (hold.invoice_id, hold.reason.value, hold.note) == (
        invoice.id,
        "disputed",
        "Goods not delivered",
    )
    assert hold.placed_by == "user:admin@example.com"

    shown = text(admin_client.get(page, headers=ENGLISH))
    assert "No reminders now: the document is on hold (disputed) since" in shown
    assert "Not put in a collection run: the document is on hold (disputed)" in shown
    assert (
        "Put on hold (disputed): no reminders and no direct debits. Why: Goods not delivered"
        in shown
    )

    french = text(admin_client.get(page, headers=FRENCH))
    assert (
        "Mis en attente (contesté) : pas de rappels ni de domiciliations. "
        "Motif : Goods not delivered" in french
    )
    assert (
        "Pas de rappels pour l’instant : le document est en attente (contesté) depuis le" in french
    )
    dutch = text(admin_client.get(page, headers=DUTCH))
    assert (
        "In wacht gezet (betwist): geen herinneringen en geen domiciliëringen. "
        "Waarom: Goods not delivered" in dutch
    )


def test_a_promise_without_its_day_is_refused_on_its_fields_and_nothing_is_written(admin_client):
    invoice = make_invoice()
    token = csrf_token(admin_client, f"/invoices/{invoice.id}")
    response = admin_client.post(
        f"/invoices/{invoice.id}/hold",
        data={"hold-csrf_token": token, "hold-reason": "promise", "hold-note": ""},
        headers=ENGLISH,
    )
    assert response.status_code == 400
    shown = text(response)
    assert "A promise to pay needs the day the customer will pay by." in shown
    assert "Say why: it is kept with the hold and on the timeline." in shown
    assert hold_rows() == []
    assert timeline.HOLD_PLACED not in [e.kind for e in invoice.events]


def test_without_its_csrf_token_or_as_a_viewer_nothing_is_held(admin_client, viewer, app):
    invoice = make_invoice()
    response = admin_client.post(
        f"/invoices/{invoice.id}/hold", data={"hold-reason": "disputed", "hold-note": "x"}
    )
    assert response.status_code == 400
    assert hold_rows() == []


def test_a_viewer_may_look_but_not_hold(viewer_client):
    invoice = make_invoice()
    response = viewer_client.post(
        f"/invoices/{invoice.id}/hold", data={"hold-reason": "disputed", "hold-note": "x"}
    )
    assert response.status_code in (400, 403)
    assert hold_rows() == []
    assert viewer_client.get("/holds/").status_code == 200


def test_a_promise_is_lifted_by_hand_from_the_document_page(admin_client, clock):
    invoice = make_invoice()
    day = clock.today() + timedelta(days=5)
    token = csrf_token(admin_client, f"/invoices/{invoice.id}")
    admin_client.post(
        f"/invoices/{invoice.id}/hold",
        data={
            "hold-csrf_token": token,
            "hold-reason": "promise",
            "hold-until": day.isoformat(),
            "hold-note": "Friday",
        },
    )
    [hold] = hold_rows()
    assert hold.until == day
    response = admin_client.post(
        f"/holds/{hold.id}/lift", data={"lift-csrf_token": token, "back": f"/invoices/{invoice.id}"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert hold_rows()[0].lifted_by == "user:admin@example.com"
    shown = text(admin_client.get(f"/invoices/{invoice.id}", headers=ENGLISH))
    assert "Hold lifted (promise to pay): reminders and direct debits resume." in shown
    assert "No reminders now" not in shown


def test_the_customer_page_holds_the_whole_customer_and_keeps_notes(admin_client, clock):
    customer = make_customer(name="Klaverblad Services")
    first, second = make_invoice(customer=customer), make_invoice(customer=customer)
    page = f"/customers/{customer.id}"
    token = csrf_token(admin_client, page)
    response = admin_client.post(
        f"/customers/{customer.id}/hold",
        data={
            "hold-csrf_token": token,
            "hold-reason": "payment_plan",
            "hold-note": "6 monthly instalments",
        },
    )
    assert response.status_code == 302
    admin_client.post(
        f"/customers/{customer.id}/notes",
        data={"note-csrf_token": token, "note-text": "Called Mr Peeters"},
    )
    admin_client.post(
        f"/invoices/{first.id}/notes", data={"note-csrf_token": token, "note-text": "Sent a copy"}
    )
    assert [n.text for n in db.session.scalars(sa.select(Note).order_by(Note.id))] == [
        "Called Mr Peeters",
        "Sent a copy",
    ]

    shown = text(admin_client.get(page, headers=FRENCH))
    assert "plan de paiement" in shown and "6 monthly instalments" in shown
    assert "Called Mr Peeters" in shown and "Sent a copy" in shown
    for invoice in (first, second):
        kinds = [
            e.kind
            for e in db.session.scalars(sa.select(InvoiceEvent).filter_by(invoice_id=invoice.id))
        ]
        assert timeline.HOLD_PLACED in kinds
    document = text(admin_client.get(f"/invoices/{second.id}", headers=DUTCH))
    assert "Klant Klaverblad Services in wacht gezet (afbetalingsplan)" in document
    assert "klant Klaverblad Services staat in wacht (afbetalingsplan) sinds" in document
    assert "Notitie: Sent a copy" in text(admin_client.get(f"/invoices/{first.id}", headers=DUTCH))


def test_an_empty_note_is_refused(admin_client):
    invoice = make_invoice()
    token = csrf_token(admin_client, f"/invoices/{invoice.id}")
    response = admin_client.post(
        f"/invoices/{invoice.id}/notes",
        data={"note-csrf_token": token, "note-text": "  "},
        headers=ENGLISH,
    )
    assert response.status_code == 400
    assert "Write the note first." in text(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Note)) == 0


def test_a_selection_of_the_invoice_list_is_held_then_lifted(admin_client, clock):
    invoices = [make_invoice(), make_invoice(), make_invoice()]
    ids = [str(i.id) for i in invoices[:2]]
    token = csrf_token(admin_client, "/invoices/")
    form = admin_client.post(
        "/invoices/actions",
        data={"csrf_token": token, "action": "hold", "ids": ids, "back": "/invoices/"},
        headers=ENGLISH,
    )
    assert form.status_code == 200
    assert "Put 2 documents on hold" in text(form)
    done = admin_client.post(
        "/holds/selection",
        data={
            "hold-csrf_token": token,
            "ids": ids,
            "back": "/invoices/",
            "hold-reason": "disputed",
            "hold-note": "Batch",
        },
    )
    assert done.status_code == 302
    assert sorted(h.invoice_id for h in hold_rows()) == sorted(int(i) for i in ids)
    listed = text(admin_client.get("/invoices/", headers=FRENCH))
    assert listed.count('data-held="disputed"') == 2

    admin_client.post(
        "/invoices/actions",
        data={"csrf_token": token, "action": "lift_holds", "ids": ids, "back": "/invoices/"},
    )
    db.session.expire_all()
    assert all(h.lifted_at is not None for h in hold_rows())


def test_the_run_preview_says_which_documents_stay_out_on_hold(admin_client, clock):
    creditor.update("Acme NV", "BE71 0961 2345 6769", "GKCCBEBB", "BE69ZZZ050D000000008")
    mandate = make_mandate()
    invoice = make_invoice(customer=mandate.customer, profile=mandate.profile)
    on = clock.today() + timedelta(days=5)
    make_announcement(invoice, mandate, on)
    holds.hold_documents([invoice.id], "disputed", None, "Contested", "user:x", clock.today())
    until = (on + timedelta(days=3)).isoformat()
    shown = text(admin_client.get(f"/collections/new?until={until}&scheme=CORE", headers=FRENCH))
    assert 'data-reason="held_disputed"' in shown
    assert "En attente : contesté (le document ou son client)" in shown
    assert invoice.number in shown


def test_the_dashboard_lists_promises_whose_day_passed_and_old_disputes(admin_client, clock):
    invoice = make_invoice()
    other = make_invoice()
    today = clock.today()
    holds.hold_documents([invoice.id], "promise", today, "Today", "user:x", today)
    holds.hold_documents([other.id], "disputed", None, "Old one", "user:x", today)
    clock.advance(days=31)

    shown = text(admin_client.get("/", headers=ENGLISH))
    assert "Promises to pay whose day passed" in shown
    assert "/holds/?show=lapsed" in shown
    assert "Disputes and payment plans on hold for over 30 days" in shown
    assert "/holds/?show=review" in shown

    lapsed = text(admin_client.get("/holds/?show=lapsed", headers=ENGLISH))
    assert invoice.number in lapsed and other.number not in lapsed
    assert "promise passed: chasing resumed" in lapsed
    review = text(admin_client.get("/holds/?show=review", headers=DUTCH))
    assert other.number in review and "Old one" in review


@pytest.mark.parametrize("headers", [DUTCH, FRENCH, ENGLISH])
def test_the_hold_list_speaks_the_readers_language(admin_client, clock, headers):
    invoice = make_invoice()
    day = clock.today() + timedelta(days=2)
    holds.hold_documents([invoice.id], "promise", day, "Pays", "user:x", clock.today())
    shown = text(admin_client.get("/holds/", headers=headers))
    assert invoice.number in shown
    locale = {"nl-BE": "nl_BE", "fr-BE": "fr_BE", "en": "en"}[headers["Accept-Language"]]
    assert format_date(day, locale=locale) in shown
