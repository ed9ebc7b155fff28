"""Dunning steps per profile: a document walks through its profile's steps on the
schedule, each step mailed once through a real SMTP server, and stops the moment it is
paid; the next step and its date; "send reminder now"; the migration of reminder_days."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import flask_migrate
import pytest
import sqlalchemy as sa

from collector import create_app
from collector.core.storage import FolderStore
from collector.documents import changes, timeline
from collector.documents.models import DocumentMail, DocumentMailStatus, InvoiceEvent
from collector.dunning import hand_offs, schedule
from collector.dunning.models import StepKind
from collector.extensions import db
from collector.mail import invitations, reminders
from collector.mail.smtp import SmtpMailer
from collector.runtime.wordings import Sentence
from tests.conftest import app_config
from tests.support.factories import make_customer, make_invoice, make_profile

SCHEDULE = [
    (StepKind.REMINDER, 3),
    (StepKind.REMINDER, 14),
    (StepKind.FINAL_NOTICE, 30),
    (StepKind.HAND_OFF, 45),
]


@pytest.fixture
def postman(smtp_server, tmp_path):
    return invitations.Postman(
        mailer=SmtpMailer(smtp_server.host, smtp_server.port, "none"),
        sender="Acme billing <billing@acme.example>",
        store=FolderStore(tmp_path / "documents"),
        payment_base_url="https://collector.example/pay/",
        creditors={},
    )


def run_day(clock, postman, day) -> None:
    """The daily run on ``day`` at 06:00 local: owe what is reached, send it."""
    clock.set_local(day, time(6, 0))
    reminders.queue_reminders(clock.today())
    hand_offs.record_hand_offs(clock.today())
    for mail_id in invitations.deliverable(clock.now()):
        invitations.deliver(mail_id, postman, clock.now())


def subjects(smtp_server, number: str) -> list[str]:
    return [m["Subject"] for m in smtp_server.messages if number in m["Subject"]]


def test_a_document_walks_through_its_steps_and_stops_when_paid(app, clock, postman, smtp_server):
    profile = make_profile(steps=SCHEDULE)
    due = clock.today()
    walker = make_invoice(profile=profile, due_date=due, customer=make_customer(language="en"))
    payer = make_invoice(profile=profile, due_date=due, customer=make_customer(language="en"))

    for offset in range(0, 50):
        if offset == 10:  # between step 1 and step 2
            changes.mark_paid(payer.id, reason="paid at the desk", actor="user:a@b.c")
        run_day(clock, postman, due + timedelta(days=offset))

    keys = db.session.scalars(
        sa.select(DocumentMail.key).filter_by(invoice_id=walker.id).order_by(DocumentMail.id)
    ).all()
    assert keys == ["reminder:3", "reminder:14", "reminder:30"]
    assert subjects(smtp_server, walker.number) == [
        f"Reminder: invoice {walker.number} is 3 days overdue",
        f"Reminder: invoice {walker.number} is 14 days overdue",
        f"Reminder: invoice {walker.number} is 30 days overdue",
    ]
    assert subjects(smtp_server, payer.number) == [
        f"Reminder: invoice {payer.number} is 3 days overdue"
    ]
    # Each send was on its day: the SMTP log has no more than one per run.
    assert len(smtp_server.messages) == 4

    events = db.session.scalars(
        sa.select(InvoiceEvent)
        .filter_by(invoice_id=walker.id, kind=timeline.REMINDER_SENT)
        .order_by(InvoiceEvent.id)
    ).all()
    said = [Sentence.from_stored(e.details["says"]) for e in events]
    assert [s.values["number"] for s in said] == [1, 2, 3]
    assert events[2].message.startswith("Final notice (step 3, 30 days after the due date)")

    # Past day 45 the document is for a person: to hand off, no mail, said once.
    handed = db.session.scalars(
        sa.select(InvoiceEvent).filter_by(kind=timeline.DUNNING_HAND_OFF)
    ).all()
    assert [e.invoice_id for e in handed] == [walker.id]
    assert handed[0].message.startswith("Dunning reached step 4, the hand-off (45 days")
    [step] = schedule.next_steps([walker], clock.today()).values()
    assert step.hand_off and step.on == due + timedelta(days=45)
    assert schedule.next_steps([payer], clock.today()) == {}


def test_the_next_step_and_its_date(app, clock):
    profile = make_profile(steps=SCHEDULE)
    today = clock.today()
    fresh = make_invoice(profile=profile, due_date=today - timedelta(days=1))
    reached = make_invoice(profile=profile, due_date=today - timedelta(days=5))
    # Step 2 (+14) was reached 15 days ago: too late to send; step 3 comes tomorrow.
    stale = make_invoice(profile=profile, due_date=today - timedelta(days=29))
    steps = schedule.next_steps([fresh, reached, stale], today)

    assert (steps[fresh.id].number, steps[fresh.id].on) == (1, today + timedelta(days=2))
    assert not steps[fresh.id].due(today)
    assert steps[reached.id].number == 1 and steps[reached.id].due(today)
    assert (steps[stale.id].number, steps[stale.id].on) == (3, today + timedelta(days=1))


def test_a_late_run_sends_only_the_latest_step_reached(app, clock, postman, smtp_server):
    profile = make_profile(steps=SCHEDULE)
    due = clock.today()
    invoice = make_invoice(profile=profile, due_date=due)
    ancient = make_invoice(profile=profile, due_date=due - timedelta(days=200))

    run_day(clock, postman, due + timedelta(days=20))  # the runs of days 3 to 19 were missed
    run_day(clock, postman, due + timedelta(days=21))

    rows = db.session.scalars(sa.select(DocumentMail)).all()
    assert [(r.invoice_id, r.key) for r in rows] == [(invoice.id, "reminder:14")]
    assert ancient.id not in {r.invoice_id for r in rows}


def test_send_reminder_now_sends_the_next_step_which_the_schedule_then_skips(
    app, clock, postman, smtp_server
):
    profile = make_profile(steps=SCHEDULE)
    due = clock.today() - timedelta(days=5)
    invoice = make_invoice(profile=profile, due_date=due)
    not_due = make_invoice(profile=profile, due_date=clock.today() + timedelta(days=5))
    run_day(clock, postman, clock.today())  # step 1 (+3)

    owed = reminders.request_reminders([invoice.id, not_due.id], clock.today(), actor="user:x")
    [row] = [db.session.get(DocumentMail, i) for i in owed]
    assert (row.key, row.days_overdue) == ("reminder:14", 14)
    invitations.deliver(row.id, postman, clock.now())
    assert row.status == DocumentMailStatus.SENT
    assert [r[1] for r in reminders.recently_reminded([invoice.id], clock.now(), 7)] == [row]

    run_day(clock, postman, due + timedelta(days=14))  # the schedule's day of step 2
    assert len(subjects(smtp_server, invoice.number)) == 2


def test_send_reminder_now_after_the_last_step_sends_it_again(app, clock, postman):
    profile = make_profile(steps=[(StepKind.REMINDER, 3)])
    invoice = make_invoice(profile=profile, due_date=clock.today() - timedelta(days=4))
    run_day(clock, postman, clock.today())
    [again] = reminders.request_reminders([invoice.id], clock.today(), actor="user:x")
    assert db.session.get(DocumentMail, again).key == "reminder:3:again:2"


def test_the_migration_turns_reminder_days_into_steps_and_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'steps.sqlite3'}"
    app = create_app(app_config(tmp_path, DATABASE_URL=url))
    now = datetime(2026, 12, 1, 10, tzinfo=UTC).isoformat(" ")
    with app.app_context():
        flask_migrate.upgrade(revision="d19a01000001")
        with db.engine.begin() as conn:
            for ident, days in ((1, "[7, 21]"), (2, "[]")):
                conn.execute(
                    sa.text(
                        "INSERT INTO profile (id, name, allow_direct_debit, allow_payment_link,"
                        " allow_bank_transfer, send_invitation_on_import,"
                        " invitation_requires_pdf, reminder_days, created_at, updated_at)"
                        " VALUES (:id, :name, 0, 0, 1, 0, 0, :days, :now, :now)"
                    ),
                    {"id": ident, "name": f"P{ident}", "days": days, "now": now},
                )
        flask_migrate.upgrade(revision="d19c03000003")
        with db.engine.connect() as conn:
            steps = conn.execute(
                sa.text("SELECT profile_id, kind, days FROM dunning_step ORDER BY days")
            ).all()
        assert [tuple(s) for s in steps] == [(1, "reminder", 7), (1, "reminder", 21)]

        flask_migrate.downgrade(revision="d19a01000001")
        with db.engine.connect() as conn:
            days = conn.execute(sa.text("SELECT reminder_days FROM profile ORDER BY id")).all()
        assert [d[0] for d in days] == ["[7, 21]", "[]"]
        db.engine.dispose()
