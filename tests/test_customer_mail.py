"""Invitations and reminders: owed once, sent once, retried when the server refuses,
never for what is paid, archived or under collection. A real SMTP server counts."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from collector.core.storage import FolderStore
from collector.documents import timeline
from collector.documents.models import (
    DocumentKind,
    DocumentMail,
    DocumentMailStatus,
    InvoiceEvent,
    InvoiceState,
)
from collector.extensions import db
from collector.mail import invitations, reminders
from collector.mail import jobs as mail_jobs
from collector.mail.models import MailMessage, MailStatus
from collector.mail.smtp import SmtpMailer
from collector.runtime import queue
from collector.runtime.models import JobRun, JobStatus
from collector.teamleader import pdfs
from tests.support.factories import make_customer, make_invoice, make_profile

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path):
    return FolderStore(tmp_path / "documents")


def postman_for(server, store, port=None) -> invitations.Postman:
    return invitations.Postman(
        mailer=SmtpMailer(server.host if server else "127.0.0.1", port or server.port, "none"),
        sender="Acme billing <billing@acme.example>",
        store=store,
        payment_base_url="https://collector.example/pay/",
        creditors={"dept-1": "Acme NV"},
    )


@pytest.fixture
def postman(smtp_server, store):
    return postman_for(smtp_server, store)


def invited_document(profile=None, **overrides):
    profile = profile or make_profile(send_invitation_on_import=True)
    return make_invoice(profile=profile, department_id="dept-1", **overrides)


def deliver_all(postman, now=NOW) -> list[DocumentMail]:
    return [invitations.deliver(i, postman, now) for i in invitations.deliverable(now)]


def kinds(invoice) -> list[str]:
    rows = db.session.scalars(db.select(InvoiceEvent).filter_by(invoice_id=invoice.id))
    return [e.kind for e in rows]


def test_an_invitation_on_import_goes_out_once_with_the_pdf_and_the_payment_link(
    app, postman, store, smtp_server
):
    invoice = invited_document(customer=make_customer(language="nl", name="Dupont & Fils"))
    pdfs.store_pdf(invoice, store.put(PDF), len(PDF), "test", NOW)
    db.session.commit()

    assert invitations.queue_on_import([invoice.id], actor="import") == 1
    assert invitations.queue_on_import([invoice.id], actor="import") == 0
    deliver_all(postman)
    deliver_all(postman)

    [message] = smtp_server.messages
    assert message["To"] == invoice.customer.email
    assert message["Subject"] == f"Factuur {invoice.number} van Acme NV"
    link = f"https://collector.example/pay/{invoice.payment_token}"
    assert link in message.get_body(("plain",)).get_content()
    assert link in message.get_body(("html",)).get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF
    row = db.session.scalars(db.select(DocumentMail)).one()
    assert row.status == DocumentMailStatus.SENT and row.attempts == 1
    assert row.mail_message.status == MailStatus.SENT
    assert row.mail_message.attachments == [
        {
            "filename": pdfs.pdf_filename(invoice),
            "mimetype": "application/pdf",
            "size": len(PDF),
        }
    ]
    assert kinds(invoice).count(timeline.INVITATION_SENT) == 1


def test_an_invitation_that_needs_the_pdf_waits_for_it(app, postman, store, smtp_server):
    profile = make_profile(send_invitation_on_import=True, invitation_requires_pdf=True)
    invoice = invited_document(profile)
    invitations.queue_on_import([invoice.id], actor="import")

    assert invitations.deliverable(NOW) == []
    deliver_all(postman)
    assert smtp_server.messages == []

    pdfs.store_pdf(invoice, store.put(PDF), len(PDF), "test", NOW)
    db.session.commit()
    deliver_all(postman)
    assert len(smtp_server.messages) == 1
    assert len(list(smtp_server.messages[0].iter_attachments())) == 1


def test_only_invoices_still_to_pay_are_invited_on_import(app, postman):
    profile = make_profile(send_invitation_on_import=True)
    owed = invited_document(profile)
    paid = invited_document(profile, state=InvoiceState.PAID, amount_due=Decimal("0.00"))
    note = invited_document(profile, kind=DocumentKind.CREDIT_NOTE, state=InvoiceState.ARCHIVED)
    quiet = invited_document(make_profile(send_invitation_on_import=False))

    ids = [owed.id, paid.id, note.id, quiet.id]
    assert invitations.queue_on_import(ids, actor="import") == 1
    assert [r.invoice_id for r in db.session.scalars(db.select(DocumentMail))] == [owed.id]


def test_invitations_on_import_are_owed_in_the_importers_transaction(app):
    profile = make_profile(send_invitation_on_import=True)
    invited, fresh = invited_document(profile), invited_document(profile)
    invitations.queue_on_import([invited.id], actor="import")
    db.session.commit()

    # The taken key undoes only its own savepoint; the new row waits for the caller…
    assert invitations.queue_on_import([invited.id, fresh.id], actor="import") == 1
    db.session.rollback()  # …whose transaction (the import's chunk) decides.
    assert db.session.scalars(db.select(DocumentMail.invoice_id)).all() == [invited.id]

    assert invitations.queue_on_import([fresh.id], actor="import") == 1
    db.session.commit()
    owed = db.session.scalars(db.select(DocumentMail.invoice_id).order_by(DocumentMail.id))
    assert owed.all() == [invited.id, fresh.id]


@pytest.mark.postgres
def test_ten_concurrent_attempts_to_invite_one_document_send_one_email(app, postman, smtp_server):
    invoice_id = invited_document().id  # read here: the threads do not share our session
    barrier = threading.Barrier(10)
    errors: list[BaseException] = []

    def attempt():
        with app.app_context():
            try:
                barrier.wait()
                for mail_id in invitations.request_invitations([invoice_id], actor="t"):
                    invitations.deliver(mail_id, postman)
            except BaseException as exc:  # noqa: BLE001 — reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(smtp_server.messages) == 1
    assert db.session.scalar(db.select(db.func.count()).select_from(DocumentMail)) == 1
    assert db.session.scalar(db.select(db.func.count()).select_from(MailMessage)) == 1


def test_a_refused_email_is_retried_with_backoff_then_given_up(
    app, store, smtp_server, closed_port
):
    invoice = invited_document()
    invitations.queue_on_import([invoice.id], actor="import")
    down = postman_for(None, store, port=closed_port)

    [row] = deliver_all(down)
    assert row.status == DocumentMailStatus.FAILED and row.retry_at == NOW + timedelta(minutes=5)
    assert invitations.deliverable(NOW + timedelta(minutes=4)) == []
    assert "cannot connect" in row.error

    later = NOW
    for _ in range(invitations.MAX_ATTEMPTS - 1):
        later = row.retry_at
        [row] = deliver_all(down, later)
    assert row.status == DocumentMailStatus.FAILED and row.retry_at is None
    assert row.attempts == invitations.MAX_ATTEMPTS
    assert invitations.deliverable(later + timedelta(days=30)) == []
    assert kinds(invoice).count(timeline.MAIL_FAILED) == invitations.MAX_ATTEMPTS

    # A person asking again sends the given-up invitation at once, no confirmation needed:
    # it never reached the customer.
    [mail_id] = invitations.request_invitations([invoice.id], actor="user:a@b.example")
    assert mail_id == row.id
    invitations.deliver(mail_id, postman_for(smtp_server, store), later)
    assert len(smtp_server.messages) == 1


def test_a_failure_then_success_sends_once(app, store, smtp_server, closed_port):
    invoice = invited_document()
    invitations.queue_on_import([invoice.id], actor="import")
    deliver_all(postman_for(None, store, port=closed_port))
    [row] = deliver_all(postman_for(smtp_server, store), NOW + timedelta(minutes=5))
    assert row.status == DocumentMailStatus.SENT and row.attempts == 2
    deliver_all(postman_for(smtp_server, store), NOW + timedelta(days=1))
    assert len(smtp_server.messages) == 1


def test_a_worker_that_died_mid_send_leaves_an_uncertain_mail_not_resent(app, postman, smtp_server):
    invoice = invited_document()
    invitations.queue_on_import([invoice.id], actor="import")
    [mail_id] = invitations.deliverable(NOW)
    assert invitations._claim(mail_id, NOW)  # the worker claimed it, then vanished

    assert invitations.mark_stalled(NOW + timedelta(minutes=5)) == 0
    assert invitations.mark_stalled(NOW + timedelta(minutes=11)) == 1
    row = db.session.get(DocumentMail, mail_id)
    assert row.status == DocumentMailStatus.UNCERTAIN
    assert timeline.MAIL_UNCERTAIN in kinds(invoice)
    assert invitations.deliverable(NOW + timedelta(days=1)) == []
    assert invitations.request_invitations([invoice.id], actor="u") == []

    [again] = invitations.request_invitations([invoice.id], actor="u", again=True)
    invitations.deliver(again, postman)
    assert len(smtp_server.messages) == 1
    assert db.session.get(DocumentMail, again).key == "invitation:again:2"


def test_a_mail_claimed_by_a_job_that_is_over_is_uncertain_at_once(app):
    invoice = invited_document()
    invitations.queue_on_import([invoice.id], actor="import")
    [mail_id] = invitations.deliverable(NOW)
    run = JobRun(job_id="mail-job", name="deliver_mail", status=JobStatus.STARTED)
    db.session.add(run)
    db.session.commit()
    token = queue._current_run.set(run.id)  # the claim is made inside that job
    try:
        assert invitations._claim(mail_id, NOW)
    finally:
        queue._current_run.reset(token)
    assert db.session.get(DocumentMail, mail_id).claimed_by_run_id == run.id

    assert invitations.mark_stalled(NOW + timedelta(seconds=30)) == 0  # still sending
    run.status = JobStatus.FINISHED  # its worker stopped; rq ran it again, to its end
    db.session.commit()
    assert invitations.mark_stalled(NOW + timedelta(seconds=30)) == 1
    assert db.session.get(DocumentMail, mail_id).status == DocumentMailStatus.UNCERTAIN


def test_a_sent_invitation_is_sent_again_only_when_confirmed(app, postman, smtp_server):
    invoice = invited_document()
    for mail_id in invitations.request_invitations([invoice.id], actor="u"):
        invitations.deliver(mail_id, postman)
    assert invitations.request_invitations([invoice.id], actor="u") == []
    for mail_id in invitations.request_invitations([invoice.id], actor="u", again=True):
        invitations.deliver(mail_id, postman)
    assert len(smtp_server.messages) == 2


def test_an_owed_mail_is_cancelled_when_nothing_is_owed_any_more(app, postman, smtp_server):
    paid_meanwhile = invited_document()
    no_address = invited_document(customer=make_customer(email=None))
    bad_address = invited_document(customer=make_customer(email="not an address"))
    invitations.queue_on_import([paid_meanwhile.id, no_address.id, bad_address.id], actor="import")
    paid_meanwhile.state, paid_meanwhile.amount_due = InvoiceState.PAID, Decimal("0.00")
    db.session.commit()

    rows = deliver_all(postman)

    assert {r.status for r in rows} == {DocumentMailStatus.CANCELLED}
    assert smtp_server.messages == []
    reasons = {r.invoice_id: r.error for r in rows}
    assert "PAID" in reasons[paid_meanwhile.id]
    assert "no email address" in reasons[no_address.id]
    assert "not a valid email address" in reasons[bad_address.id]
    assert db.session.scalar(db.select(db.func.count()).select_from(MailMessage)) == 0


# -- reminders ----------------------------------------------------------------------------


def remind(postman, today: date) -> list[DocumentMail]:
    reminders.queue_reminders(today)
    now = datetime.combine(today, datetime.min.time(), UTC) + timedelta(hours=6)
    return deliver_all(postman, now)


def test_each_reminder_goes_out_once_as_its_day_passes(app, postman, smtp_server):
    profile = make_profile(reminder_days=[7, 21])
    due = date(2026, 12, 1)
    booked = make_invoice(profile=profile, due_date=due, customer=make_customer(language="en"))
    expired = make_invoice(profile=profile, due_date=due, state=InvoiceState.EXPIRED)
    make_invoice(profile=profile, due_date=due, state=InvoiceState.PAID)
    make_invoice(profile=profile, due_date=due, state=InvoiceState.ARCHIVED)
    make_invoice(profile=profile, due_date=due, state=InvoiceState.PENDING)
    make_invoice(profile=profile, due_date=due, kind=DocumentKind.CREDIT_NOTE)

    for day in range(0, 40):
        remind(postman, due + timedelta(days=day))

    subjects = sorted(m["Subject"] for m in smtp_server.messages)
    assert len(subjects) == 4
    assert subjects.count(f"Reminder: invoice {booked.number} is 7 days overdue") == 1
    assert subjects.count(f"Reminder: invoice {booked.number} is 21 days overdue") == 1
    rows = db.session.scalars(db.select(DocumentMail).order_by(DocumentMail.id)).all()
    assert {(r.invoice_id, r.key) for r in rows} == {
        (booked.id, "reminder:7"),
        (booked.id, "reminder:21"),
        (expired.id, "reminder:7"),
        (expired.id, "reminder:21"),
    }
    assert kinds(booked).count(timeline.REMINDER_SENT) == 2


def test_a_late_run_sends_only_the_latest_reminder_and_none_when_long_overdue(
    app, postman, smtp_server
):
    profile = make_profile(reminder_days=[7, 21])
    due = date(2026, 12, 1)
    recent = make_invoice(profile=profile, due_date=due)
    ancient = make_invoice(profile=profile, due_date=due - timedelta(days=120))

    remind(postman, due + timedelta(days=25))
    remind(postman, due + timedelta(days=26))

    rows = db.session.scalars(db.select(DocumentMail)).all()
    assert [(r.invoice_id, r.key) for r in rows] == [(recent.id, "reminder:21")]
    assert len(smtp_server.messages) == 1
    assert ancient.id not in {r.invoice_id for r in rows}


def test_a_reminder_is_dropped_when_the_due_date_moved(app, postman, smtp_server):
    profile = make_profile(reminder_days=[7])
    invoice = make_invoice(profile=profile, due_date=date(2026, 12, 1))
    reminders.queue_reminders(date(2026, 12, 8))
    invoice.due_date = date(2027, 1, 31)  # Teamleader granted a delay meanwhile
    db.session.commit()

    [row] = deliver_all(postman, datetime(2026, 12, 8, 6, tzinfo=UTC))
    assert row.status == DocumentMailStatus.CANCELLED
    assert smtp_server.messages == []


def test_a_job_run_again_after_its_worker_died_finds_its_own_claims_uncertain(
    app, postman, smtp_server
):
    """rq runs the job again under the same run: before it sends anything, what that run
    left ``sending`` went down with its worker."""
    invoice = invited_document()
    invitations.queue_on_import([invoice.id], actor="import")
    [mail_id] = invitations.deliverable(NOW)
    run = JobRun(job_id="send-job", name="send_invitations", status=JobStatus.STARTED)
    db.session.add(run)
    db.session.commit()
    token = queue._current_run.set(run.id)
    try:
        assert invitations._claim(mail_id, NOW)  # the first attempt, whose worker died
        assert invitations.mark_stalled(NOW + timedelta(seconds=30)) == 0  # run not over
        mail_jobs._deliver([mail_id])  # the same run, again
    finally:
        queue._current_run.reset(token)

    row = db.session.get(DocumentMail, mail_id)
    assert row.status == DocumentMailStatus.UNCERTAIN  # never resent on a guess
    assert smtp_server.messages == []
