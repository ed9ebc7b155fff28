"""Failed direct debits handled by their reason, through the sandbox bank: an AM04 is
presented once more after the delay (announced again), a second AM04 is not; an AC04
ends the mandate and mails the customer; an MD06 leaves a note; a profile's own table
changes what happens."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from collector.core.clock import local_today
from collector.core.storage import FolderStore
from collector.direct_debit import (
    bank_files,
    collection_outcomes,
    collection_preview,
    collection_runs,
    return_rules,
    signing,
)
from collector.direct_debit.models import (
    Collection,
    CollectionStatus,
    MandateStatus,
    ReturnAction,
)
from collector.documents import timeline
from collector.documents.models import DocumentMail, DocumentMailKind, DocumentMailStatus
from collector.dunning.models import Note
from collector.extensions import db
from collector.mail import invitations
from collector.mail import jobs as mail_jobs
from collector.runtime import setup as runtime_setup
from collector.web.needs_attention import needs_attention
from sandbox import bank
from tests.support.bank import make_creditor
from tests.support.factories import make_collection, make_invoice, make_mandate, make_profile
from tests.support.sepa import sequence_types


@pytest.fixture
def world(app, smtp_server, clock, tmp_path, monkeypatch):
    """A direct-debit customer with an invoice, mail to the SMTP test server (the app's
    configuration restored afterwards), a creditor that collects."""
    clock.set("2026-11-02T09:00:00Z")
    for name, value in dict(
        MAIL_HOST=smtp_server.host,
        MAIL_PORT=smtp_server.port,
        MAIL_SECURITY="none",
        MAIL_FROM="billing@collector.example",
        PUBLIC_BASE_URL="https://pay.collector.example",
    ).items():
        monkeypatch.setitem(app.config, name, value)
    make_creditor()
    mandate = make_mandate()
    invoice = make_invoice(customer=mandate.customer, profile=mandate.profile)
    return {
        "app": app,
        "smtp": smtp_server,
        "clock": clock,
        "mandate": mandate,
        "invoice": invoice,
        "bank_store": FolderStore(tmp_path / "bank"),
        "store": runtime_setup.document_store(app),
    }


def run_now(world, until_days: int = 60):
    """A collection run made today over what is announced, marked sent: its file."""
    today = local_today()
    run = collection_runs.create_run(
        world["store"], today, today + timedelta(days=until_days), "CORE", "test"
    )
    collection_runs.mark_sent(run, "test")
    return run, collection_runs.file(run, world["store"])


def upload(world, content: bytes, name: str):
    return bank_files.upload(world["bank_store"], name, content, "admin@example.com", local_today())


def events(invoice, kind):
    return [e for e in invoice.events if e.kind == kind]


def mails(invoice) -> list[DocumentMail]:
    return list(
        db.session.scalars(
            sa.select(DocumentMail)
            .where(DocumentMail.invoice_id == invoice.id)
            .order_by(DocumentMail.id)
        )
    )


def test_an_am04_return_is_retried_once_after_the_delay_and_a_second_am04_is_not(world):
    invoice, clock, smtp = world["invoice"], world["clock"], world["smtp"]
    invitations.request_invitations([invoice.id], actor="test")
    mail_jobs.deliver_mail()
    run, content = run_now(world)
    [first] = run.collections
    assert (first.attempt, sequence_types(content)[first.end_to_end_id]) == (1, "FRST")

    # Settled on its day, then returned for insufficient funds (a camt.054 after settlement).
    clock.set_local(first.collection_date + timedelta(days=2), clock.now().timetz())
    returned_on = local_today()
    upload(world, bank.settle(content, first.collection_date), "settled.xml")
    upload(world, bank.returns(content, {first.end_to_end_id: "AM04"}, returned_on), "am04.xml")
    db.session.refresh(first)
    assert first.status == CollectionStatus.RETURNED
    assert first.next_step == ReturnAction.RETRY
    assert first.retry_on == returned_on + timedelta(days=7)
    [failed] = events(invoice, timeline.DEBIT_FAILED)
    assert "AM04 insufficient funds" in failed.message and "retry 1 of 1" in failed.message
    assert failed.details["step"] == "retry" and failed.details["attempt"] == 1

    # The schedule owes the new pre-notification and sends it: announced for a day after
    # the delay and after the notice period.
    received = len(smtp.messages)
    mail_jobs.deliver_mail()
    assert len(smtp.messages) == received + 1
    retry_mail = mails(invoice)[-1]
    assert retry_mail.key == f"retry:{first.id}" and retry_mail.status == DocumentMailStatus.SENT
    assert retry_mail.direct_debit_on >= first.retry_on
    assert retry_mail.direct_debit_on >= returned_on + timedelta(days=14)
    assert "SEPA" in smtp.messages[-1].get_body(("plain",)).get_content()
    mail_jobs.deliver_mail()  # owed once, however often the schedule looks
    assert len(smtp.messages) == received + 1

    # A run that stops before the announced day leaves it out; the next one takes it,
    # RCUR (the returned collection had settled: the mandate is used), as attempt 2.
    short = collection_preview.preview(local_today(), first.retry_on, "CORE")
    assert invoice.id not in {c.invoice_id for c in short.candidates}
    second_run, second_content = run_now(world)
    [second] = second_run.collections
    assert second.invoice_id == invoice.id and second.attempt == 2
    assert second.collection_date >= retry_mail.direct_debit_on
    assert sequence_types(second_content)[second.end_to_end_id] == "RCUR"

    # Rejected again for insufficient funds (a pain.002): no retry left.
    report = bank.status_report(second_content, {second.end_to_end_id: "AM04"})
    upload(world, report, "pain002.xml")
    db.session.refresh(second)
    assert second.status == CollectionStatus.REJECTED
    assert second.next_step == ReturnAction.BACK_TO_COLLECT and second.retry_on is None
    last = events(invoice, timeline.DEBIT_FAILED)[-1]
    assert "after 1 retries" in last.message and "no retry left" in last.message
    received = len(smtp.messages)
    mail_jobs.deliver_mail()
    assert len(smtp.messages) == received
    later = collection_preview.preview(local_today(), local_today() + timedelta(days=90), "CORE")
    assert invoice.id not in {c.invoice_id for c in later.candidates}
    # No retry left: now a person is asked about it.
    assert "came_back" in {item.key for item in needs_attention()}


def test_an_ac04_reject_ends_the_mandate_and_mails_the_customer_instead(world):
    invoice, mandate, smtp = world["invoice"], world["mandate"], world["smtp"]
    invitations.request_invitations([invoice.id], actor="test")
    mail_jobs.deliver_mail()
    run, content = run_now(world)
    [collection] = run.collections
    upload(world, bank.status_report(content, {collection.end_to_end_id: "AC04"}), "rj.xml")
    db.session.refresh(collection)
    db.session.refresh(mandate)
    assert collection.next_step == ReturnAction.MANDATE_UNUSABLE
    assert mandate.status == MandateStatus.REVOKED
    assert "AC04 account closed" in mandate.status_reason
    [failed] = events(invoice, timeline.DEBIT_FAILED)
    assert f"mandate {mandate.reference} can no longer be used" in failed.message

    received = len(smtp.messages)
    mail_jobs.deliver_mail()
    assert len(smtp.messages) == received + 1
    row = mails(invoice)[-1]
    assert row.kind == DocumentMailKind.MANDATE_UNUSABLE and row.direct_debit_on is None
    message = smtp.messages[-1]
    assert message["To"] == invoice.customer.email
    body = message.get_body(("plain",)).get_content()
    # In the customer's language (the factory's customers speak Dutch), with the payment
    # link and the customer's own page to sign a new mandate online.
    assert "domiciliëring" in message["Subject"]
    assert f"https://pay.collector.example/pay/{invoice.payment_token}" in body
    assert "nieuw mandaat" in body
    link = signing.existing_link(invoice.customer_id)
    assert link is not None and signing.path_for(link) in body
    assert events(invoice, timeline.MANDATE_MAIL_SENT)
    # No run uses the mandate again, and no retry is announced.
    later = collection_preview.preview(local_today(), local_today() + timedelta(days=90), "CORE")
    assert invoice.id not in {c.invoice_id for c in later.candidates}
    mail_jobs.deliver_mail()
    assert len(smtp.messages) == received + 1


def test_an_md06_refund_goes_back_to_collect_with_a_note_for_the_team(app, clock):
    clock.set("2026-11-15T10:00:00Z")
    collection = make_collection()
    collection_outcomes.settle(collection, collection.amount, date(2026, 11, 18), "bank")
    collection_outcomes.return_(
        collection, "MD06", collection.amount, date(2026, 12, 20), "bank", date(2026, 12, 20)
    )
    db.session.commit()
    assert collection.next_step == ReturnAction.REFUND_CLAIMED
    assert collection.mandate.status == MandateStatus.ACTIVE
    [note] = db.session.scalars(sa.select(Note).where(Note.invoice_id == collection.invoice_id))
    assert "claimed the refund" in note.text and "MD06" in note.text
    [failed] = events(collection.invoice, timeline.DEBIT_FAILED)
    assert failed.details["step"] == "refund_claimed"


def test_a_profiles_own_table_decides(app, clock):
    clock.set("2026-11-15T10:00:00Z")
    profile = make_profile(allow_direct_debit=True)
    changed = return_rules.save(
        profile, {"MS03": "retry", "AM04": "back_to_collect"}, "2", "10", "admin@example.com"
    )
    db.session.commit()
    assert sorted(changed) == ["AM04", "MS03"]
    assert (profile.debit_retries, profile.debit_retry_days) == (2, 10)
    assert return_rules.action_for(profile.id, "ms03") == ReturnAction.RETRY
    assert return_rules.action_for(profile.id, "AM04") == ReturnAction.BACK_TO_COLLECT
    assert return_rules.action_for(None, "AM04") == ReturnAction.RETRY  # the default

    mandate = make_mandate(profile=profile)
    ms03 = make_collection(mandate=mandate)
    collection_outcomes.reject(ms03, "MS03", "bank", date(2026, 11, 16))
    am04 = make_collection(mandate=mandate)
    collection_outcomes.reject(am04, "AM04", "bank", date(2026, 11, 16))
    db.session.commit()
    assert (ms03.next_step, ms03.retry_on) == (ReturnAction.RETRY, date(2026, 11, 26))
    assert (am04.next_step, am04.retry_on) == (ReturnAction.BACK_TO_COLLECT, None)


def test_a_profiles_table_refuses_bad_input_and_writes_nothing(app):
    from collector.core.errors import Invalid

    profile = make_profile(allow_direct_debit=True)
    for actions, retries, delay in (
        ({"AM04": "explode"}, "1", "7"),
        ({}, "9", "7"),
        ({}, "1", "zero"),
    ):
        with pytest.raises(Invalid):
            return_rules.save(profile, actions, retries, delay, "admin@example.com")
        db.session.rollback()
    assert all(not row.changed for row in return_rules.table(profile))
    assert db.session.scalar(sa.select(sa.func.count(Collection.id))) == 0


def test_the_teams_own_text_for_an_unusable_mandate_goes_out(world):
    from collector.dunning.models.texts import MANDATE_UNUSABLE_SLOT
    from collector.mail import texts

    profile = world["mandate"].profile
    body = (
        "Beste {{ customer_name }}, uw mandaat werkt niet meer. Betaal via {{ payment_link }} "
        "of met mededeling {{ structured_reference }}."
    )
    texts.save_text(
        profile.id,
        MANDATE_UNUSABLE_SLOT,
        None,
        "nl",
        {"subject": "Mandaat {{ number }}", "body": body},
        "user:admin@example.com",
    )
    db.session.commit()
    collection = make_collection(mandate=world["mandate"])
    collection_outcomes.reject(collection, "AC06", "bank file", local_today())
    db.session.commit()
    mail_jobs.deliver_mail()
    message = world["smtp"].messages[-1]
    assert message["Subject"] == f"Mandaat {collection.invoice.number}"
    assert "uw mandaat werkt niet meer" in message.get_body(("plain",)).get_content()


def test_a_return_read_from_the_end_of_day_camt053_is_handled_by_its_reason(world):
    invoice = world["invoice"]
    invitations.request_invitations([invoice.id], actor="test")
    mail_jobs.deliver_mail()
    run, content = run_now(world)
    [collection] = run.collections
    world["clock"].set_local(
        collection.collection_date + timedelta(days=1), world["clock"].now().timetz()
    )
    upload(world, bank.settle(content, collection.collection_date), "settled.xml")
    # Only the statement tells of the return (the bank sent no camt.054 for it).
    notice = bank.returns(content, {collection.end_to_end_id: "AM04"}, local_today())
    statement = bank.statement(run.creditor_iban, local_today(), repeat=[notice])
    upload(world, statement, "camt053.xml")
    db.session.refresh(collection)
    assert collection.status == CollectionStatus.RETURNED
    assert collection.next_step == ReturnAction.RETRY
    # Retried on its own: nobody is asked about it on the dashboard.
    assert "came_back" not in {item.key for item in needs_attention()}
    # The same return in a later camt.054 changes nothing.
    upload(world, notice, "camt054.xml")
    assert len(events(invoice, timeline.DEBIT_FAILED)) == 1
