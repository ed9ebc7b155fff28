"""Issue 19, safe automatic mail, at the level of rows and pages: the hold rule, "only
with the PDF" wherever an invitation starts, never an invitation for what is paid,
archived or credited (nor a button offering one), and the dry run of the next 24 hours
checked against what the schedule then really sends. A real SMTP server counts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from collector.core.columns import utcnow
from collector.documents.held_mail import HoldRule, release
from collector.documents.models import (
    DocumentMail,
    DocumentMailKind,
    DocumentMailStatus,
    InvoiceState,
)
from collector.extensions import db
from collector.mail import invitations, reminders
from collector.mail import jobs as mail_jobs
from collector.runtime import setup as runtime_setup
from collector.runtime.models import JobRun
from collector.teamleader import pdfs
from tests.conftest import csrf_token
from tests.support.bank import make_creditor
from tests.support.factories import make_invoice, make_mandate, make_profile

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
CLOSED = {
    "paid": {"state": InvoiceState.PAID, "amount_due": Decimal("0.00")},
    "archived": {"state": InvoiceState.ARCHIVED},
    "credited": {"state": InvoiceState.ARCHIVED, "amount_due": Decimal("0.00")},
    "credited in full, still booked": {"amount_due": Decimal("0.00")},
}


@pytest.fixture
def mailing(app, smtp_server):
    """Mail to the SMTP test server (the app's configuration is restored afterwards)."""
    saved = dict(app.config)
    app.config.update(
        MAIL_HOST=smtp_server.host,
        MAIL_PORT=smtp_server.port,
        MAIL_SECURITY="none",
        MAIL_FROM="billing@collector.example",
    )
    yield smtp_server
    app.config.clear()
    app.config.update(saved)


def owed(invoice, status=DocumentMailStatus.WAITING, **values) -> DocumentMail:
    row = DocumentMail(
        invoice_id=invoice.id, kind=DocumentMailKind.INVITATION, key="invitation", status=status
    )
    for name, value in values.items():
        setattr(row, name, value)
    db.session.add(row)
    db.session.commit()
    return row


def store_pdf(app, invoice) -> None:
    store = runtime_setup.document_store(app)
    pdfs.store_pdf(invoice, store.put(PDF), len(PDF), "test", utcnow())
    db.session.commit()


# -- the hold rule ------------------------------------------------------------------------


def test_the_rule_holds_overdue_and_old_documents_and_nothing_when_opted_in(app, clock):
    today = clock.today()
    rule = HoldRule.of(today, 14, opted_in=False)
    fresh, due = today - timedelta(days=14), today + timedelta(days=1)
    assert not rule.holds(fresh, due)
    assert rule.holds(today - timedelta(days=15), due)  # dated too far back
    assert rule.holds(today, today - timedelta(days=1))  # already overdue
    assert not rule.holds(today, today)  # due today is not overdue yet
    assert not HoldRule.of(today, 14, opted_in=True).holds(today - timedelta(days=400), today)
    assert HoldRule.of(today, 0, opted_in=False).holds(today - timedelta(days=1), due)


def test_an_import_holds_what_the_rule_holds_and_no_reminder_chases_it(app, clock):
    today = clock.today()
    profile = make_profile(send_invitation_on_import=True, reminder_days=[7])
    fresh = make_invoice(profile=profile, invoice_date=today - timedelta(days=3))
    late = {"invoice_date": today - timedelta(days=40), "due_date": today - timedelta(days=8)}
    overdue = make_invoice(profile=profile, **late)
    rule = HoldRule.of(today, 14, opted_in=False)

    assert (
        invitations.queue_on_import([fresh.id, overdue.id], actor="teamleader sweep", rule=rule)
        == 1
    )
    db.session.commit()

    statuses = {m.invoice_id: m.status for m in db.session.scalars(db.select(DocumentMail))}
    assert statuses == {fresh.id: DocumentMailStatus.WAITING, overdue.id: DocumentMailStatus.HELD}
    assert reminders.queue_reminders(today) == 0
    assert [e.kind for e in overdue.events] == ["mail_held"]

    # Released, it is owed like any other and the reminder run may follow it up.
    [held] = [m for m in overdue.mails if m.status == DocumentMailStatus.HELD]
    assert release([held.id, held.id], actor="user:anna@example.com") == [held.id]
    assert release([held.id], actor="user:anna@example.com") == []
    assert reminders.queue_reminders(today) == 1


# -- only with the PDF --------------------------------------------------------------------


def test_a_row_that_needs_its_pdf_is_not_sent_without_it_whoever_delivers_it(app, mailing):
    profile = make_profile(send_invitation_on_import=True, invitation_requires_pdf=True)
    invoice = make_invoice(profile=profile)
    row = owed(invoice, needs_pdf=True)

    assert invitations.deliver(row.id, mail_jobs._postman()) is None
    db.session.refresh(row)
    assert (row.status, row.attempts) == (DocumentMailStatus.WAITING, 0)
    assert mailing.messages == []

    store_pdf(app, invoice)
    assert invitations.deliver(row.id, mail_jobs._postman()).status == DocumentMailStatus.SENT
    [message] = mailing.messages
    assert [a.get_filename() for a in message.iter_attachments()] == [pdfs.pdf_filename(invoice)]


def test_the_button_and_a_released_hold_wait_for_the_pdf_too(app, mailing, admin):
    profile = make_profile(send_invitation_on_import=True, invitation_requires_pdf=True)
    by_button, by_release = make_invoice(profile=profile), make_invoice(profile=profile)
    held = owed(by_release, DocumentMailStatus.HELD, needs_pdf=True)

    mail_jobs.send_invitations([by_button.id], f"user:{admin.email}")
    release([held.id], actor=f"user:{admin.email}")
    mail_jobs.send_released([held.id])
    mail_jobs.deliver_mail()

    assert mailing.messages == []
    rows = db.session.scalars(db.select(DocumentMail).order_by(DocumentMail.id)).all()
    assert [(r.status, r.needs_pdf) for r in rows] == [(DocumentMailStatus.WAITING, True)] * 2

    store_pdf(app, by_button)
    store_pdf(app, by_release)
    mail_jobs.deliver_mail()
    assert sorted(m["To"] for m in mailing.messages) == sorted(
        [by_button.customer.email, by_release.customer.email]
    )


# -- never for what is paid, archived or credited -----------------------------------------


@pytest.mark.parametrize("closed", CLOSED.values(), ids=CLOSED.keys())
def test_no_invitation_is_owed_for_a_closed_document(app, mailing, admin, closed):
    invoice = make_invoice(profile=make_profile(send_invitation_on_import=True), **closed)

    assert invitations.request_invitations([invoice.id], actor="user:a@example.com") == []
    assert invitations.queue_on_import([invoice.id], actor="teamleader webhook") == 0
    mail_jobs.send_invitations([invoice.id], f"user:{admin.email}")
    assert db.session.scalars(db.select(DocumentMail)).all() == []
    assert mailing.messages == []


@pytest.mark.parametrize("closed", CLOSED.values(), ids=CLOSED.keys())
def test_a_document_closed_after_queueing_is_not_mailed_at_send_time(app, mailing, closed):
    invoice = make_invoice()
    row = owed(invoice)
    for name, value in closed.items():
        setattr(invoice, name, value)
    db.session.commit()

    mail_jobs.deliver_mail()

    db.session.refresh(row)
    assert row.status == DocumentMailStatus.CANCELLED
    assert mailing.messages == []


@pytest.mark.parametrize("closed", CLOSED.values(), ids=CLOSED.keys())
def test_the_document_page_offers_no_invitation_for_a_closed_document(admin_client, closed):
    open_one, closed_one = make_invoice(), make_invoice(**closed)

    assert ">Send invitation</button>" in admin_client.get(f"/invoices/{open_one.id}").text
    assert ">Send invitation</button>" not in admin_client.get(f"/invoices/{closed_one.id}").text


def test_bulk_invites_only_the_open_documents_and_says_so(admin_client, redis_conn):
    open_one = make_invoice()
    paid = make_invoice(**CLOSED["paid"])
    token = csrf_token(admin_client, "/invoices/")

    response = admin_client.post(
        "/invoices/actions",
        data={"action": "send_invitations", "ids": [paid.id, open_one.id], "csrf_token": token},
        follow_redirects=True,
    )

    assert "1 selected document gets no invitation" in response.text
    run = db.session.scalars(db.select(JobRun)).one()
    assert (run.name, run.args[0]) == ("send_invitations", [open_one.id])

    response = admin_client.post(
        "/invoices/actions",
        data={"action": "send_invitations", "ids": [paid.id], "csrf_token": token},
        follow_redirects=True,
    )
    assert "None of the selected documents can be invited" in response.text
    assert db.session.scalar(db.select(db.func.count(JobRun.id))) == 1


# -- the dry run --------------------------------------------------------------------------


def test_the_dry_run_shows_what_the_schedule_then_really_sends(app, admin_client, mailing, clock):
    # Before the morning's reminder run (06:00 UTC), so it falls within the 24 hours.
    morning = datetime.combine(clock.today(), time(4, 0), tzinfo=UTC)
    clock.set(morning)
    today = clock.today()
    reminding = make_profile(reminder_days=[7])
    invited = make_invoice()
    owed(invited)
    reminded = make_invoice(
        profile=reminding,
        invoice_date=today - timedelta(days=38),
        due_date=today - timedelta(days=8),
    )
    paid_since = make_invoice(**CLOSED["paid"])
    owed(paid_since)
    held = make_invoice()
    owed(held, DocumentMailStatus.HELD)
    no_pdf = make_invoice()
    owed(no_pdf, needs_pdf=True)
    make_creditor()
    mandate = make_mandate()
    debited = make_invoice(customer=mandate.customer, profile=mandate.profile)
    owed(debited)

    page = admin_client.get("/mail/upcoming")
    assert page.status_code == 200
    html = page.text
    counts = {
        kind: int(re.search(rf'data-upcoming="{kind}"><span>[^<]*</span><strong>(\d+)', html)[1])
        for kind in ("invitation", "reminder", "prenotification")
    }
    assert counts == {"invitation": 2, "reminder": 1, "prenotification": 1}
    for shown in (invited, reminded, debited):
        assert f">{shown.number}</a>" in html
    for hidden in (paid_since, held, no_pdf):
        assert f">{hidden.number}</a>" not in html
    assert "1 invitation waits for its PDF" in html
    assert mailing.messages == []  # read-only
    assert db.session.scalar(db.select(db.func.count(DocumentMail.id))) == 5

    # What the schedule then sends is what the dry run said.
    mail_jobs.deliver_mail()
    clock.set(morning.replace(hour=6))
    mail_jobs.send_reminders()
    expected = [invited, reminded, debited]
    assert sorted(m["To"] for m in mailing.messages) == sorted(i.customer.email for i in expected)
    announced = db.session.scalars(
        db.select(DocumentMail).where(DocumentMail.direct_debit_on.isnot(None))
    ).all()
    assert [r.invoice_id for r in announced] == [debited.id]


def test_the_dry_run_is_behind_the_login(client):
    response = client.get("/mail/upcoming")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert client.get("/mail/held").status_code == 302
    assert client.post("/mail/held/send", data={"ids": ["1"]}).status_code in (302, 400)
