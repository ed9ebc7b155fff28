"""The customer portal (issue 24, part 2): a secret address per customer, only their own
documents, rotation by an admin, "I have paid" / "I dispute this" pausing reminders
(through the dunning schedule), its languages and its headers."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from collector.core.storage import FolderStore
from collector.documents.models import DocumentKind, DocumentMail, InvoiceState
from collector.dunning import holds
from collector.dunning.models import Hold, HoldReason, Note
from collector.extensions import db
from collector.mail import invitations, reminders
from collector.mail.models import MailMessage
from collector.mail.smtp import SmtpMailer
from collector.portal import said
from tests.support.factories import make_customer, make_invoice, make_profile

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf(page) -> str:
    return CSRF.search(page.get_data(as_text=True)).group(1)


@pytest.fixture
def customer(app):
    return make_customer(name="Bakkerij Peeters", language="nl")


def portal(client, customer, **query):
    return client.get(f"/portal/{customer.portal_token}", query_string=query)


def test_an_unknown_or_malformed_token_is_a_plain_404(client, customer):
    assert client.get("/portal/" + "A" * 43).status_code == 404
    assert client.get("/portal/short").status_code == 404
    assert client.get("/portal/" + "é" * 43).status_code == 404
    assert portal(client, customer).status_code == 200


def test_the_portal_shows_only_that_customers_documents(client, customer, clock):
    mine = make_invoice(customer=customer, number="2026/001")
    theirs = make_invoice(number="2026/002")
    html = portal(client, customer).get_data(as_text=True)
    assert f'data-invoice="{mine.id}"' in html and "2026/001" in html
    assert f'data-invoice="{theirs.id}"' not in html and "2026/002" not in html
    # Another customer's document cannot be downloaded or said anything about either.
    assert (
        client.get(f"/portal/{customer.portal_token}/documents/{theirs.id}.pdf").status_code == 404
    )
    page = portal(client, customer)
    answer = client.post(
        f"/portal/{customer.portal_token}/documents/{theirs.id}/disputed",
        data={"csrf_token": csrf(page), "reason": "not ours"},
    )
    assert answer.status_code == 404
    assert db.session.scalars(sa.select(Hold)).all() == []


def test_open_overdue_credit_and_recently_paid_are_listed(client, customer, clock):
    today = clock.today()
    overdue = make_invoice(customer=customer, due_date=today - timedelta(days=3))
    make_invoice(
        customer=customer,
        kind=DocumentKind.CREDIT_NOTE,
        number="CN 7",
        total_incl_vat=Decimal("-30.00"),
        amount_due=Decimal("0.00"),
    )
    paid = make_invoice(customer=customer, state=InvoiceState.PAID, amount_due=Decimal("0.00"))
    html = portal(client, customer, lang="en").get_data(as_text=True)
    assert f'data-invoice="{overdue.id}" data-state="overdue"' in html
    assert "Overdue" in html and "€121.00" in html
    assert 'data-state="credit"' in html and "CN 7" in html
    assert f'data-invoice="{paid.id}" data-state="paid"' in html


def test_a_rotated_address_is_a_404_and_the_new_one_opens(admin_client, customer):
    client = admin_client
    old = customer.portal_token
    page = client.get(f"/customers/{customer.id}")
    assert old in page.get_data(as_text=True)
    answer = client.post(f"/customers/{customer.id}/portal/rotate", data={"csrf_token": csrf(page)})
    assert answer.status_code == 302
    db.session.expire_all()
    assert customer.portal_token != old
    assert client.get(f"/portal/{old}").status_code == 404
    assert client.get(f"/portal/{customer.portal_token}").status_code == 200


def test_only_an_admin_rotates(viewer_client, customer):
    client = viewer_client
    page = client.get(f"/customers/{customer.id}")
    old = customer.portal_token
    answer = client.post(f"/customers/{customer.id}/portal/rotate", data={"csrf_token": csrf(page)})
    assert answer.status_code == 403
    db.session.expire_all()
    assert customer.portal_token == old


def test_the_portal_speaks_the_customers_language_and_switches(client, customer):
    make_invoice(customer=customer)
    assert "Uw facturen" in portal(client, customer).get_data(as_text=True)
    assert "Vos factures" in portal(client, customer, lang="fr").get_data(as_text=True)
    assert "Your invoices" in portal(client, customer, lang="en").get_data(as_text=True)


def test_the_portal_has_the_payment_pages_headers(client, customer):
    response = portal(client, customer)
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_a_form_without_its_csrf_token_is_refused(client, customer):
    invoice = make_invoice(customer=customer)
    answer = client.post(
        f"/portal/{customer.portal_token}/documents/{invoice.id}/disputed", data={"reason": "x"}
    )
    assert answer.status_code == 400
    assert db.session.scalars(sa.select(Hold)).all() == []


# -- "I have paid" and "I dispute this" stop the reminder ----------------------------------


@pytest.fixture
def postman(smtp_server, tmp_path):
    return invitations.Postman(
        mailer=SmtpMailer(smtp_server.host, smtp_server.port, "none"),
        sender="Acme billing <billing@acme.example>",
        store=FolderStore(tmp_path / "documents"),
        payment_base_url="https://collector.example/pay/",
        creditors={},
    )


def remind(postman, clock) -> list:
    reminders.queue_reminders(clock.today())
    return [
        invitations.deliver(i, postman, clock.now()) for i in invitations.deliverable(clock.now())
    ]


def overdue_pair(customer, clock):
    profile = make_profile(reminder_days=[7])
    due = clock.today() - timedelta(days=7)
    return [make_invoice(customer=customer, profile=profile, due_date=due) for _ in range(2)]


def test_i_have_paid_pauses_the_reminder_and_tells_the_timeline(
    client, customer, clock, postman, smtp_server
):
    held, free = overdue_pair(customer, clock)
    page = portal(client, customer)
    answer = client.post(
        f"/portal/{customer.portal_token}/documents/{held.id}/paid",
        data={"csrf_token": csrf(page), "paid_on": clock.today().isoformat(), "note": "KBC"},
    )
    assert answer.status_code == 200
    assert 'data-hold="promise"' in answer.get_data(as_text=True)
    hold = db.session.scalars(sa.select(Hold)).one()
    assert (hold.invoice_id, hold.reason, hold.placed_by) == (
        held.id,
        HoldReason.PROMISE,
        "customer",
    )
    assert hold.until == clock.today() + said.PAYMENT_ARRIVES
    assert "KBC" in hold.note
    assert "hold_placed" in [e.kind for e in held.events]

    remind(postman, clock)
    assert db.session.scalars(sa.select(DocumentMail.invoice_id)).all() == [free.id]


def test_i_dispute_this_pauses_the_reminder(client, customer, clock, postman, smtp_server):
    held, free = overdue_pair(customer, clock)
    page = portal(client, customer)
    empty = client.post(
        f"/portal/{customer.portal_token}/documents/{held.id}/disputed",
        data={"csrf_token": csrf(page), "reason": "  "},
    )
    assert empty.status_code == 400
    assert db.session.scalars(sa.select(Hold)).all() == []
    answer = client.post(
        f"/portal/{customer.portal_token}/documents/{held.id}/disputed",
        data={"csrf_token": csrf(page), "reason": "Never delivered"},
    )
    assert answer.status_code == 200
    hold = db.session.scalars(sa.select(Hold)).one()
    assert hold.reason == HoldReason.DISPUTED and "Never delivered" in hold.note

    remind(postman, clock)
    assert db.session.scalars(sa.select(DocumentMail.invoice_id)).all() == [free.id]


def test_a_paid_day_to_come_is_refused(client, customer, clock):
    invoice = make_invoice(customer=customer)
    page = portal(client, customer, lang="en")
    answer = client.post(
        f"/portal/{customer.portal_token}/documents/{invoice.id}/paid?lang=en",
        data={"csrf_token": csrf(page), "paid_on": (clock.today() + timedelta(days=2)).isoformat()},
    )
    assert answer.status_code == 400
    assert "still to come" in answer.get_data(as_text=True)
    assert db.session.scalars(sa.select(Hold)).all() == []


def test_a_customer_may_say_it_only_so_often(client, customer, clock):
    invoice = make_invoice(customer=customer)
    page = portal(client, customer)
    token = csrf(page)
    codes = [
        client.post(
            f"/portal/{customer.portal_token}/documents/{invoice.id}/disputed",
            data={"csrf_token": token, "reason": f"try {n}"},
        ).status_code
        for n in range(said.DAILY_LIMIT + 1)
    ]
    assert codes == [200] * said.DAILY_LIMIT + [429]


def test_an_invitation_links_to_the_portal(customer, clock, smtp_server, tmp_path):
    postman = invitations.Postman(
        mailer=SmtpMailer(smtp_server.host, smtp_server.port, "none"),
        sender="Acme billing <billing@acme.example>",
        store=FolderStore(tmp_path / "documents"),
        payment_base_url="https://collector.example/pay/",
        creditors={},
        portal_base_url="https://collector.example/portal/",
    )
    invoice = make_invoice(customer=customer, profile=make_profile(reminder_days=[7]))
    invitations.queue_invitation(invoice, actor="user:ann@example.com")
    db.session.commit()
    for mail_id in invitations.deliverable(clock.now()):
        invitations.deliver(mail_id, postman, clock.now())
    [message] = smtp_server.messages
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    address = f"https://collector.example/portal/{customer.portal_token}"
    assert "Al uw openstaande facturen vindt u op één pagina:" in text
    assert address in text and address in html


def test_an_admin_mails_the_portal_address_to_the_customer(admin_client, customer):
    page = admin_client.get(f"/customers/{customer.id}")
    answer = admin_client.post(
        f"/customers/{customer.id}/portal/send", data={"csrf_token": csrf(page)}
    )
    assert answer.status_code == 302
    mail = db.session.scalars(sa.select(MailMessage).filter_by(kind="portal_link")).one()
    assert mail.recipient == customer.email
    assert mail.subject == "Uw facturen en betalingen"  # the customer's language
    assert f"/portal/{customer.portal_token}" in mail.body_text


def test_the_statement_is_the_customers_own_in_their_language(client, customer):
    mine = make_invoice(customer=customer, number="2026/077")
    make_invoice(number="2026/078")
    answer = client.get(f"/portal/{customer.portal_token}/statement.csv")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "private, no-store"
    body = answer.get_data(as_text=True)
    assert f"invoice,{mine.number},Factuur" in body and "2026/078" not in body
    assert (
        client.get(f"/portal/{customer.portal_token}/statement.csv?currency=USD").status_code == 404
    )


def test_a_document_id_beyond_any_row_is_a_404(client, customer):
    assert client.get(f"/portal/{customer.portal_token}/documents/{2**40}.pdf").status_code == 404


def test_the_customers_word_never_replaces_the_teams_hold(client, customer, clock):
    invoice = make_invoice(customer=customer)
    holds.hold_documents(
        [invoice.id], "payment_plan", None, "6 instalments", "user:ann@example.com", clock.today()
    )
    page = portal(client, customer)
    answer = client.post(
        f"/portal/{customer.portal_token}/documents/{invoice.id}/paid",
        data={"csrf_token": csrf(page), "paid_on": clock.today().isoformat()},
    )
    assert answer.status_code == 200
    [hold] = db.session.scalars(sa.select(Hold)).all()
    assert hold.reason == HoldReason.PAYMENT_PLAN and hold.lifted_at is None
    [note] = db.session.scalars(sa.select(Note)).all()
    assert note.author == "customer" and "says they paid" in note.text
