"""Dunning on the invoice pages: the next step on the document and in the list (column
and filter), and "Send reminder now" for one or many, asking before a second reminder
within REMINDER_CONFIRM_DAYS."""

from __future__ import annotations

from datetime import timedelta

from collector.core.columns import utcnow
from collector.documents.models import DocumentMail, DocumentMailKind, DocumentMailStatus
from collector.dunning.models import StepKind
from collector.extensions import db
from collector.mail import jobs as mail_jobs
from collector.runtime.models import JobRun
from tests.conftest import csrf_token
from tests.support.factories import make_invoice, make_profile

SCHEDULE = [(StepKind.REMINDER, 3), (StepKind.FINAL_NOTICE, 30), (StepKind.HAND_OFF, 45)]


def act(client, ids, action, **extra):
    data = {"csrf_token": csrf_token(client, "/invoices/"), "action": action, "ids": ids}
    return client.post("/invoices/actions", data={**data, **extra})


def reminded(invoice, days_ago: int = 1) -> DocumentMail:
    row = DocumentMail(
        invoice_id=invoice.id,
        kind=DocumentMailKind.REMINDER,
        key="reminder:3",
        days_overdue=3,
        status=DocumentMailStatus.SENT,
        recipient=invoice.customer.email,
        sent_at=utcnow() - timedelta(days=days_ago),
    )
    db.session.add(row)
    db.session.commit()
    return row


def job_runs() -> list[JobRun]:
    return list(db.session.scalars(db.select(JobRun).order_by(JobRun.id)))


def test_the_document_page_shows_the_next_step_and_offers_a_reminder(app, admin_client, clock):
    profile = make_profile(steps=SCHEDULE)
    coming = make_invoice(profile=profile, due_date=clock.today() - timedelta(days=1))
    handed = make_invoice(profile=profile, due_date=clock.today() - timedelta(days=50))

    page = admin_client.get(f"/invoices/{coming.id}").get_data(as_text=True)
    on = (clock.today() + timedelta(days=2)).isoformat()
    assert f'data-next-step="{on}"' in page and "Reminder (step 1) on" in page
    assert 'value="send_reminders"' in page

    page = admin_client.get(f"/invoices/{handed.id}").get_data(as_text=True)
    assert 'data-next-step="hand_off"' in page and "to hand off" in page


def test_the_list_shows_the_step_and_filters_on_it(app, admin_client, clock):
    profile = make_profile(steps=SCHEDULE)
    due = make_invoice(profile=profile, due_date=clock.today() - timedelta(days=4))
    handed = make_invoice(profile=profile, due_date=clock.today() - timedelta(days=46))
    fresh = make_invoice(profile=profile, due_date=clock.today() + timedelta(days=4))
    sent = make_invoice(profile=profile, due_date=clock.today() - timedelta(days=4))
    reminded(sent)

    page = admin_client.get("/invoices/").get_data(as_text=True)
    assert page.count('data-next-step="due"') == 1
    assert page.count('data-next-step="hand_off"') == 1

    def listed(query):
        html = admin_client.get(f"/invoices/?{query}").get_data(as_text=True)
        return {i.id for i in (due, handed, fresh, sent) if f'data-invoice="{i.id}"' in html}

    assert listed("dunning=due") == {due.id}
    assert listed("dunning=hand_off") == {handed.id}
    assert admin_client.get("/invoices/?dunning=someday").status_code == 400


def test_send_reminder_now_asks_before_a_second_within_the_days(app, admin_client, admin, clock):
    profile = make_profile(steps=SCHEDULE)
    lately = make_invoice(profile=profile, due_date=clock.today() - timedelta(days=5))
    never = make_invoice(profile=profile, due_date=clock.today() - timedelta(days=5))
    long_ago = make_invoice(profile=profile, due_date=clock.today() - timedelta(days=20))
    reminded(lately, days_ago=2)
    reminded(long_ago, days_ago=app.config["REMINDER_CONFIRM_DAYS"] + 1)
    ids = [str(lately.id), str(never.id), str(long_ago.id)]

    response = act(admin_client, ids, "send_reminders")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and job_runs() == []
    assert f'<tr data-invoice="{lately.id}">' in page
    assert f'<tr data-invoice="{long_ago.id}">' not in page

    act(admin_client, ids, "send_reminders", again="0")
    act(admin_client, ids, "send_reminders", again="1")
    runs = job_runs()
    assert [r.name for r in runs] == ["send_reminders_now", "send_reminders_now"]
    assert runs[0].args == [[never.id, long_ago.id], f"user:{admin.email}"]
    assert runs[1].args[0] == [lately.id, never.id, long_ago.id]


def test_the_reminder_job_sends_each_documents_next_step(app, clock):
    profile = make_profile(steps=SCHEDULE)
    invoice = make_invoice(profile=profile, due_date=clock.today() - timedelta(days=5))
    reminded(invoice, days_ago=2)
    paid = make_invoice(profile=profile, due_date=clock.today() - timedelta(days=5))
    paid.amount_due = 0
    db.session.commit()

    mail_jobs.send_reminders_now([invoice.id, paid.id], "user:a@b.c")

    rows = db.session.scalars(db.select(DocumentMail).order_by(DocumentMail.id)).all()
    assert [(r.invoice_id, r.key, r.status) for r in rows][1:] == [
        (invoice.id, "reminder:30", DocumentMailStatus.SENT)
    ]
