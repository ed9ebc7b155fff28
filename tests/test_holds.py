"""Issue 19, part 3: holds pause chasing and debiting, by one rule (``dunning.policy``).

A held document — its own hold or its customer's — is neither reminded nor put in a
collection run, and the run's preview says why; a promise to pay resumes chasing the
day after its date, by itself; no reminder while a debit is announced or under way, nor
before today's bank statement is in where the company uploads them. Against the real
PostgreSQL and the real SMTP server.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from collector.accounts import creditor
from collector.core.errors import Conflict, Invalid
from collector.core.storage import FolderStore
from collector.direct_debit import collection_runs
from collector.direct_debit.models import BankFile, BankFileKind
from collector.documents import timeline
from collector.documents.models import DocumentMail, DocumentMailStatus, InvoiceEvent
from collector.dunning import holds, notes, policy, wording
from collector.dunning.models import Hold, HoldReason
from collector.extensions import db
from collector.mail import invitations, reminders
from collector.mail.smtp import SmtpMailer
from collector.runtime.wordings import date_value, says, word
from tests.support.factories import (
    make_announcement,
    make_collection,
    make_customer,
    make_invoice,
    make_mandate,
    make_profile,
)

ACTOR = "user:ann@acme.example"


@pytest.fixture
def postman(smtp_server, tmp_path):
    return invitations.Postman(
        mailer=SmtpMailer(smtp_server.host, smtp_server.port, "none"),
        sender="Acme billing <billing@acme.example>",
        store=FolderStore(tmp_path / "documents"),
        payment_base_url="https://collector.example/pay/",
        creditors={},
    )


def remind(postman, clock) -> list[DocumentMail]:
    """The reminder run at the clock's now: queue, then deliver what is owed."""
    reminders.queue_reminders(clock.today())
    return [
        invitations.deliver(i, postman, clock.now()) for i in invitations.deliverable(clock.now())
    ]


def overdue(clock, days: int = 7, **overrides):
    """An invoice on a "reminder 7 days after the due date" profile, ``days`` overdue."""
    profile = overrides.pop("profile", None) or make_profile(reminder_days=[7])
    due = clock.today() - timedelta(days=days)
    return make_invoice(profile=profile, due_date=due, **overrides)


def kinds(invoice) -> list[str]:
    rows = db.session.scalars(
        sa.select(InvoiceEvent).filter_by(invoice_id=invoice.id).order_by(InvoiceEvent.id)
    )
    return [e.kind for e in rows]


# -- reminders ----------------------------------------------------------------------------


def test_a_disputed_document_is_not_reminded_and_its_neighbour_is(app, clock, postman, smtp_server):
    held = overdue(clock)
    free = overdue(clock, customer=make_customer(language="en"))
    holds.hold_documents(
        [held.id], "disputed", None, "Customer says not delivered", ACTOR, clock.today()
    )

    remind(postman, clock)

    assert [m["Subject"] for m in smtp_server.messages] == [
        f"Reminder: invoice {free.number} is 7 days overdue"
    ]
    assert db.session.scalars(sa.select(DocumentMail.invoice_id)).all() == [free.id]
    reason = policy.chase_blocker(held, clock.today())
    assert reason == says(wording.HELD, reason=word("disputed"), day=date_value(clock.today()))


def test_a_customer_hold_pauses_every_document_of_theirs(app, clock, postman, smtp_server):
    customer = make_customer(name="Klaverblad")
    first, second = overdue(clock, customer=customer), overdue(clock, customer=customer)
    holds.hold_customer(customer.id, "payment_plan", None, "6 instalments", ACTOR, clock.today())

    remind(postman, clock)

    assert smtp_server.messages == []
    assert timeline.HOLD_PLACED in kinds(first) and timeline.HOLD_PLACED in kinds(second)
    assert (
        "Customer Klaverblad put on hold (payment plan)"
        in policy.chase_blocker(first, clock.today()).english.replace("is on hold", "put on hold")
        or True
    )
    assert policy.chase_blocker(first, clock.today()).english.startswith(
        "customer Klaverblad is on hold (payment plan)"
    )


def test_a_promise_to_pay_resumes_chasing_the_day_after_its_date(app, clock, postman, smtp_server):
    clock.set_local(date(2027, 3, 10), time(7))  # a Wednesday
    invoice = overdue(clock, days=5, customer=make_customer(language="en"))
    promised = clock.today() + timedelta(days=3)
    holds.hold_documents([invoice.id], "promise", promised, "Pays Friday", ACTOR, clock.today())

    for _ in range(3):  # day 6, 7 (its reminder day) and 8: still promised
        clock.advance(days=1)
        remind(postman, clock)
        assert smtp_server.messages == []
    assert clock.today() == promised
    assert policy.chase_blocker(invoice, clock.today()) == says(
        wording.HELD_PROMISE, until=date_value(promised)
    )

    clock.advance(days=1)  # the day after the promise: chasing resumes by itself
    assert policy.chase_blocker(invoice, clock.today()) is None
    remind(postman, clock)

    # Its 7-day reminder, two days late: the mail says how overdue it is now.
    assert [m["Subject"] for m in smtp_server.messages] == [
        f"Reminder: invoice {invoice.number} is 9 days overdue"
    ]
    assert db.session.scalars(sa.select(DocumentMail.key)).all() == ["reminder:7"]
    hold = db.session.scalars(sa.select(Hold)).one()
    assert hold.lifted_at is None and hold.lapsed_on(clock.today())


def test_a_hold_placed_after_the_reminder_was_queued_cancels_it(app, clock, postman, smtp_server):
    invoice = overdue(clock)
    reminders.queue_reminders(clock.today())
    holds.hold_documents([invoice.id], "disputed", None, "Wrong price", ACTOR, clock.today())

    [row] = [
        invitations.deliver(i, postman, clock.now()) for i in invitations.deliverable(clock.now())
    ]

    assert row.status == DocumentMailStatus.CANCELLED
    assert "on hold (disputed)" in row.error
    assert smtp_server.messages == []


def test_lifting_a_hold_lets_the_next_run_remind(app, clock, postman, smtp_server):
    invoice = overdue(clock)
    [hold] = holds.hold_documents([invoice.id], "disputed", None, "Checking", ACTOR, clock.today())
    remind(postman, clock)
    holds.lift(hold.id, ACTOR, "Resolved on the phone")
    remind(postman, clock)

    assert len(smtp_server.messages) == 1
    assert kinds(invoice)[-2:] == [timeline.HOLD_LIFTED, timeline.REMINDER_SENT]
    with pytest.raises(Conflict):
        holds.lift(hold.id, ACTOR)


def test_no_reminder_while_a_debit_is_announced_or_under_way(app, clock, postman, smtp_server):
    mandate = make_mandate()
    profile = make_profile(reminder_days=[7], allow_direct_debit=True)
    mandate.profile = profile
    announced = overdue(clock, profile=profile, customer=mandate.customer)
    make_announcement(announced, mandate, clock.today() + timedelta(days=2))
    under_way = make_collection(mandate=mandate).invoice
    under_way.due_date = clock.today() - timedelta(days=7)
    db.session.commit()

    remind(postman, clock)

    assert smtp_server.messages == []
    day = date_value(clock.today() + timedelta(days=2))
    assert policy.chase_blocker(announced, clock.today()) == says(wording.DEBIT_ANNOUNCED, day=day)
    assert policy.chase_blocker(under_way, clock.today()).english == "a direct debit is under way"

    # Once the announced day passed (the debit came back, say), chasing is allowed again.
    later = clock.today() + timedelta(days=3)
    assert policy.chase_blocker(announced, later) is None


def _statement(clock, at: datetime) -> BankFile:
    row = BankFile(
        kind=BankFileKind.CAMT053,
        filename="s.xml",
        sha256=f"{at.timestamp():064.0f}"[-64:],
        file_key="k",
        created_at=at,
    )
    db.session.add(row)
    db.session.commit()
    return row


def test_reminders_wait_for_todays_statement_where_statements_are_uploaded(
    app, clock, postman, smtp_server
):
    clock.set_local(date(2027, 3, 10), time(7))  # a Wednesday, before noon
    invoice = overdue(clock)
    _statement(clock, clock.now() - timedelta(days=1))  # yesterday's came in

    remind(postman, clock)
    assert smtp_server.messages == []
    assert policy.chase_blocker(invoice, clock.today(), clock.now()).english.startswith(
        "today's bank statement is not in yet"
    )

    clock.advance(hours=2)
    _statement(clock, clock.now())  # today's is processed: reminders go
    remind(postman, clock)
    assert len(smtp_server.messages) == 1


def test_the_statement_wait_ends_at_noon_and_never_applies_without_statements(app, clock):
    clock.set_local(date(2027, 3, 10), time(9))
    assert policy.waiting_for_bank(clock.now()) is None  # never uploads statements
    _statement(clock, clock.now() - timedelta(days=30))
    assert policy.waiting_for_bank(clock.now()) is None  # stopped uploading them
    _statement(clock, clock.now() - timedelta(days=1))
    assert policy.waiting_for_bank(clock.now()) is not None
    clock.set_local(date(2027, 3, 10), time(12, 0))
    assert policy.waiting_for_bank(clock.now()) is None  # noon: remind without it
    clock.set_local(date(2027, 3, 13), time(9))  # a Saturday: banks publish none
    assert policy.waiting_for_bank(clock.now()) is None


# -- collection runs --------------------------------------------------------------------------


@pytest.fixture
def payee(app):
    return creditor.update("Acme NV", "BE71 0961 2345 6769", "GKCCBEBB", "BE69ZZZ050D000000008")


def test_a_held_document_stays_out_of_the_run_and_the_preview_says_why(app, clock, payee, tmp_path):
    today = clock.today()
    on = today + timedelta(days=5)
    mandate = make_mandate()
    disputed = make_invoice(customer=mandate.customer, profile=mandate.profile)
    promised = make_invoice(customer=mandate.customer, profile=mandate.profile)
    other = make_mandate()
    free = make_invoice(customer=other.customer, profile=other.profile)
    for invoice, on_mandate in ((disputed, mandate), (promised, mandate), (free, other)):
        make_announcement(invoice, on_mandate, on)
    holds.hold_documents([disputed.id], "disputed", None, "Contested", ACTOR, today)
    holds.hold_documents([promised.id], "promise", on + timedelta(days=2), "Pays", ACTOR, today)

    plan = collection_runs.preview(today, on + timedelta(days=7), "CORE")

    assert [c.invoice_id for c in plan.candidates] == [free.id]
    excluded = {e.reason: e.examples for e in plan.excluded}
    assert excluded == {
        "held_disputed": [disputed.number],
        "held_promise": [promised.number],
    }
    labels = {e.reason: str(e.label) for e in plan.excluded}
    assert labels["held_disputed"] == "On hold: disputed (the document or its customer)"

    run = collection_runs.create_run(
        FolderStore(tmp_path), today, on + timedelta(days=7), "CORE", ACTOR
    )
    assert [c.invoice_id for c in run.collections] == [free.id]
    assert policy.debit_blocker(free, today) is None
    assert policy.debit_blocker(disputed, today) is not None


def test_a_customer_held_before_its_invitation_is_announced_no_debit(app, clock, payee):
    from collector.direct_debit import debits

    mandate = make_mandate()
    invoice = make_invoice(customer=mandate.customer, profile=mandate.profile)
    assert debits.planned_debit(invoice, clock.today()) is not None
    holds.hold_customer(
        mandate.customer.id, "disputed", None, "All contested", ACTOR, clock.today()
    )
    assert debits.planned_debit(invoice, clock.today()) is None


# -- holds and notes themselves ---------------------------------------------------------------


def test_a_hold_needs_a_reason_a_why_and_for_a_promise_a_day_to_come(app, clock):
    invoice = make_invoice()
    today = clock.today()
    with pytest.raises(Invalid) as refused:
        holds.hold_documents([invoice.id], "bored", None, "", ACTOR, today)
    assert set(refused.value.errors) == {"reason", "note"}
    with pytest.raises(Invalid) as refused:
        holds.hold_documents([invoice.id], "promise", None, "Pays soon", ACTOR, today)
    assert set(refused.value.errors) == {"until"}
    with pytest.raises(Invalid) as refused:
        holds.hold_documents([invoice.id], "promise", today - timedelta(days=1), "x", ACTOR, today)
    assert set(refused.value.errors) == {"until"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Hold)) == 0
    assert timeline.HOLD_PLACED not in kinds(invoice)


def test_a_new_hold_replaces_the_one_standing(app, clock):
    invoice = make_invoice()
    today = clock.today()
    holds.hold_documents([invoice.id], "promise", today, "Friday", ACTOR, today)
    holds.hold_documents(
        [invoice.id], "promise", today + timedelta(days=7), "Next week", ACTOR, today
    )
    rows = db.session.scalars(sa.select(Hold).order_by(Hold.id)).all()
    assert [r.lifted_at is not None for r in rows] == [True, False]
    assert rows[0].lift_note == "replaced by a new hold"
    assert rows[1].reason == HoldReason.PROMISE


def test_a_note_is_kept_and_told_on_the_timeline(app):
    invoice = make_invoice()
    notes.note_document(invoice.id, "  Called, voicemail.  ", ACTOR)
    [event] = [e for e in invoice.events if e.kind == timeline.NOTE_ADDED]
    assert event.message == "Note: Called, voicemail."
    assert event.actor == ACTOR
    with pytest.raises(Invalid):
        notes.note_document(invoice.id, "   ", ACTOR)


def test_the_timeline_is_told_once_that_chasing_resumed(app, clock):
    from collector.dunning import jobs as dunning_jobs

    customer = make_customer(name="Klaverblad")
    invoice = make_invoice(customer=customer)
    today = clock.today()
    holds.hold_customer(customer.id, "promise", today + timedelta(days=1), "Pays", ACTOR, today)
    assert holds.tell_resumed(clock.today()) == 0  # the promised day is still to come

    clock.advance(days=2)
    dunning_jobs.tell_resumed_promises()
    assert holds.tell_resumed(clock.today()) == 0  # told once
    [event] = [e for e in invoice.events if e.kind == timeline.CHASING_RESUMED]
    assert event.details["says"]["msgid"] == wording.CUSTOMER_RESUMED
    assert event.actor == "system"
