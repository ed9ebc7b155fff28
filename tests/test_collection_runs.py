"""Collection runs: what a run takes and why the rest stays out, the pain.008 it writes
(valid against the ISO schema, FRST on a mandate's first use and RCUR after), the
documents it makes PENDING, and a cancel that undoes all of it."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sepaxml
import sqlalchemy as sa
import xmlschema
from defusedxml import ElementTree

from collector.accounts import creditor
from collector.accounts.models import Creditor
from collector.core.errors import Conflict, Invalid
from collector.core.storage import FolderStore
from collector.direct_debit import collection_preview, collection_runs, debits
from collector.direct_debit.models import (
    Collection,
    CollectionRun,
    CollectionRunStatus,
    CollectionStatus,
    Mandate,
    MandateScheme,
)
from collector.documents.models import Invoice, InvoiceEvent, InvoiceState
from collector.documents.references import structured_reference
from collector.extensions import db
from collector.mail import invitations
from collector.mail.smtp import SmtpMailer
from collector.payments import page
from tests.support.factories import (
    make_announcement,
    make_collection,
    make_customer,
    make_invoice,
    make_mandate,
    make_profile,
)

TODAY = date(2026, 11, 25)  # a Wednesday
UNTIL = date(2026, 12, 2)
ANNOUNCED = date(2026, 12, 1)
SCHEMA = Path(sepaxml.__file__).parent / "schemas" / "pain.008.001.02.xsd"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}


@pytest.fixture
def payee(app):
    return creditor.update("Acme NV", "BE71 0961 2345 6769", "GKCCBEBB", "BE69ZZZ050D000000008")


@pytest.fixture
def store(tmp_path):
    return FolderStore(tmp_path / "documents")


def announced(mandate=None, on=ANNOUNCED, amount=None, **overrides) -> Invoice:
    """An invoice of € 121.00 on ``mandate``'s profile whose invitation, sent, announced
    the debit on ``on``."""
    mandate = mandate or make_mandate()
    invoice = overrides.pop("invoice", None) or make_invoice(
        customer=mandate.customer, profile=mandate.profile, **overrides
    )
    again = len(invoice.mails)
    sent_at = datetime(2026, 11, 2 + again, 9, tzinfo=UTC)
    make_announcement(invoice, mandate, on, sent_at=sent_at, direct_debit_amount=amount)
    return invoice


def reload(row):
    db.session.expire_all()
    return db.session.get(type(row), row.id)


def file_of(run: CollectionRun, store) -> ElementTree:
    return ElementTree.fromstring(collection_runs.file(run, store))


def sequence_types(root) -> dict[str, str]:
    """End-to-end id → the SeqTp of its batch, as the bank reads it."""
    found = {}
    for batch in root.iterfind("p:CstmrDrctDbtInitn/p:PmtInf", NS):
        kind = batch.findtext("p:PmtTpInf/p:SeqTp", namespaces=NS)
        for e2e in batch.iterfind("p:DrctDbtTxInf/p:PmtId/p:EndToEndId", NS):
            found[e2e.text] = kind
    return found


# -- the preview --------------------------------------------------------------------------------


def test_the_preview_groups_what_it_takes_and_says_why_the_rest_stays_out(app, payee):
    used = make_mandate(used=True)
    first = announced()
    second = announced(used, amount_due=Decimal("50.25"))
    third = announced(used, on=date(2026, 11, 30), amount_due=Decimal("10.00"))
    later = announced(on=date(2026, 12, 20))
    silent = make_mandate()
    not_told = make_invoice(customer=silent.customer, profile=silent.profile)
    no_mandate = make_invoice(profile=make_profile(allow_direct_debit=True))
    pending = announced(state=InvoiceState.PENDING)
    b2b = announced(make_mandate(scheme=MandateScheme.B2B))
    make_invoice(profile=make_profile(allow_direct_debit=False))  # not for direct debit at all

    plan = collection_runs.preview(TODAY, UNTIL, "CORE")

    assert sorted(c.invoice_id for c in plan.candidates) == [first.id, second.id, third.id]
    assert [(g.sequence_type, g.collection_date, g.count, g.total) for g in plan.groups] == [
        ("RCUR", date(2026, 11, 30), 1, Decimal("10.00")),
        ("FRST", ANNOUNCED, 1, Decimal("121.00")),
        ("RCUR", ANNOUNCED, 1, Decimal("50.25")),
    ]
    assert (plan.count, plan.total, plan.creditor_problem) == (3, Decimal("181.25"), None)
    excluded = {e.reason: (e.count, e.examples) for e in plan.excluded}
    assert excluded == {
        collection_preview.PENDING: (1, [pending.number]),
        collection_preview.NO_MANDATE: (1, [no_mandate.number]),
        collection_preview.OTHER_SCHEME: (1, [b2b.number]),
        collection_preview.NOT_ANNOUNCED: (1, [not_told.number]),
        collection_preview.LATER: (1, [later.number]),
    }


def test_a_day_announced_in_the_past_is_collected_as_soon_as_possible(app, payee):
    invoice = announced(on=date(2026, 11, 20))
    [candidate] = collection_runs.preview(TODAY, UNTIL, "CORE").candidates
    assert candidate.invoice_id == invoice.id
    assert candidate.collection_date == date(2026, 11, 26)  # the business day after today


def test_never_more_than_the_pre_notification_announced(app, payee):
    less = announced(amount=Decimal("150.00"))  # partly paid since: the rest is collected
    more = announced(amount=Decimal("100.00"))  # a payment was reversed since: more is due
    plan = collection_runs.preview(TODAY, UNTIL, "CORE")
    assert [(c.invoice_id, c.amount) for c in plan.candidates] == [(less.id, Decimal("121.00"))]
    excluded = {e.reason: e.examples for e in plan.excluded}
    assert excluded == {collection_preview.MORE_THAN_ANNOUNCED: [more.number]}


def test_a_collection_that_came_back_needs_a_new_pre_notification(app, payee):
    refunded = announced(on=date(2026, 11, 20))
    mandate = db.session.get(Mandate, refunded.mails[0].direct_debit_mandate_id)
    make_collection(
        invoice=refunded,
        mandate=mandate,
        collection_date=date(2026, 11, 20),
        status=CollectionStatus.RETURNED,
        reason_code="MD06",
    )
    debits.refresh_use(mandate)  # as the bank file's return did
    refunded.state = InvoiceState.BOOKED
    db.session.commit()
    plan = collection_runs.preview(TODAY, UNTIL, "CORE")
    assert plan.candidates == []
    assert {e.reason: e.examples for e in plan.excluded} == {
        collection_preview.CAME_BACK: [refunded.number]
    }

    announced(mandate, on=ANNOUNCED, invoice=refunded)  # the invitation sent again
    [candidate] = collection_runs.preview(TODAY, UNTIL, "CORE").candidates
    assert (candidate.invoice_id, candidate.sequence_type) == (refunded.id, "RCUR")


def test_a_revoked_mandate_or_a_changed_profile_voids_the_announcement(app, payee):
    revoked = announced()
    moved = announced()
    db.session.get(Mandate, revoked.mails[0].direct_debit_mandate_id).status = "revoked"
    moved.profile = make_profile(allow_direct_debit=True)
    db.session.commit()
    plan = collection_runs.preview(TODAY, UNTIL, "CORE")
    assert plan.candidates == []
    excluded = {e.reason: e.count for e in plan.excluded}
    assert excluded == {collection_preview.NO_MANDATE: 2}


def test_an_incomplete_creditor_collects_nothing_and_says_what_is_missing(app):
    creditor.update("Acme NV", "BE71 0961 2345 6769", "", "")
    invoice = announced()
    plan = collection_runs.preview(TODAY, UNTIL, "CORE")
    assert plan.candidates == []
    # The BIC was derived from the IBAN; the identifier is what is missing.
    assert (
        "SEPA creditor identifier" in plan.creditor_problem and "BIC" not in plan.creditor_problem
    )
    assert [(e.reason, e.examples) for e in plan.excluded] == [
        (collection_preview.CREDITOR, [invoice.number])
    ]


def test_only_the_2009_format_needs_the_creditors_bic(app):
    details = {
        "name": "Acme",
        "iban": "BE71096123456769",
        "creditor_identifier": "BE69ZZZ050D000000008",
    }
    old = Creditor(**details, bic=None, pain_version="pain.008.001.02")
    assert "BIC" in collection_preview.creditor_problem(old)
    new = Creditor(**details, bic=None, pain_version="pain.008.001.08")
    assert collection_preview.creditor_problem(new) is None
    assert "name, IBAN, SEPA creditor identifier" in collection_preview.creditor_problem(None)


# -- making a run ------------------------------------------------------------------------------


def test_a_run_writes_a_valid_pain008_and_makes_its_documents_pending(app, payee, store):
    mandate = make_mandate(debtor_name="Dupont & Fils", bic="GEBABEBB")
    invoice = announced(mandate, payment_reference="+++084/2613/66074+++")
    other = announced(amount_due=Decimal("0.99"))

    run = collection_runs.create_run(store, TODAY, UNTIL, "CORE", "user:admin@example.com")

    content = collection_runs.file(run, store)
    xmlschema.XMLSchema(SCHEMA).validate(content.decode())  # the ISO schema, on its own
    root = ElementTree.fromstring(content)
    assert root.findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:MsgId", namespaces=NS) == run.message_id
    assert root.findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:CtrlSum", namespaces=NS) == "121.99"
    run = reload(run)
    assert (run.status, run.count, run.total) == (CollectionRunStatus.CREATED, 2, Decimal("121.99"))
    assert (run.pain_version, run.collect_until, run.scheme) == (
        "pain.008.001.02",
        UNTIL,
        MandateScheme.CORE,
    )

    collections = {c.invoice_id: c for c in run.collections}
    mine = collections[invoice.id]
    assert (mine.amount, mine.sequence_type, mine.collection_date, mine.status) == (
        Decimal("121.00"),
        "FRST",
        ANNOUNCED,
        CollectionStatus.PENDING,
    )
    assert mine.end_to_end_id == f"DD-{run.id}-{invoice.id}"
    [debit] = [
        tx
        for tx in root.iterfind("p:CstmrDrctDbtInitn/p:PmtInf/p:DrctDbtTxInf", NS)
        if tx.findtext("p:PmtId/p:EndToEndId", namespaces=NS) == mine.end_to_end_id
    ]
    assert debit.findtext("p:DrctDbtTx/p:MndtRltdInf/p:MndtId", namespaces=NS) == mandate.reference
    assert debit.findtext("p:Dbtr/p:Nm", namespaces=NS) == "Dupont + Fils"
    assert debit.findtext("p:DbtrAgt/p:FinInstnId/p:BIC", namespaces=NS) == "GEBABEBB"
    assert debit.findtext("p:RmtInf/p:Ustrd", namespaces=NS) == (
        f"{invoice.number} {structured_reference(invoice)}"
    )
    batches = {
        b.findtext("p:PmtInfId", namespaces=NS)
        for b in root.iterfind("p:CstmrDrctDbtInitn/p:PmtInf", NS)
    }
    assert {c.payment_info_id for c in run.collections} <= batches

    for document in (invoice, other):
        assert reload(document).state == InvoiceState.PENDING
    assert reload(mandate).used is True and reload(mandate).last_collected_on == ANNOUNCED
    reasons = db.session.scalars(
        sa.select(InvoiceEvent.message).where(InvoiceEvent.invoice_id == invoice.id)
    ).all()
    assert any(f"Collection run #{run.id}" in r and mandate.reference in r for r in reasons)


def test_frst_on_a_mandates_first_use_and_rcur_after(app, payee, store):
    """Acceptance 2: the next run on the same mandate says RCUR."""
    mandate = make_mandate()
    announced(mandate)
    first_run = collection_runs.create_run(store, TODAY, UNTIL, "CORE", "test")
    collection_runs.mark_sent(first_run, "test")
    assert set(sequence_types(file_of(first_run, store)).values()) == {"FRST"}

    announced(mandate, on=date(2026, 12, 31))
    second_run = collection_runs.create_run(
        store, date(2026, 12, 28), date(2026, 12, 31), "CORE", "t"
    )
    assert set(sequence_types(file_of(second_run, store)).values()) == {"RCUR"}
    [collection] = reload(second_run).collections
    assert collection.sequence_type == "RCUR"
    xmlschema.XMLSchema(SCHEMA).validate(collection_runs.file(second_run, store).decode())


def test_two_documents_on_a_new_mandate_are_both_first_in_its_first_run(app, payee, store):
    mandate = make_mandate()
    announced(mandate)
    announced(mandate)
    run = collection_runs.create_run(store, TODAY, UNTIL, "CORE", "test")
    assert sorted(c.sequence_type for c in reload(run).collections) == ["FRST", "FRST"]


def test_a_b2b_run_takes_only_b2b_mandates(app, payee, store):
    announced()
    b2b = announced(make_mandate(scheme=MandateScheme.B2B))
    run = collection_runs.create_run(store, TODAY, UNTIL, MandateScheme.B2B, "test")
    assert [c.invoice_id for c in reload(run).collections] == [b2b.id]
    root = file_of(run, store)
    assert root.findtext(".//p:LclInstrm/p:Cd", namespaces=NS) == "B2B"


def test_a_run_of_nothing_is_refused_and_writes_nothing(app, payee, store):
    announced(on=date(2026, 12, 20))
    with pytest.raises(Conflict, match="Nothing to collect"):
        collection_runs.create_run(store, TODAY, UNTIL, "CORE", "test")
    assert db.session.scalars(sa.select(CollectionRun)).all() == []


def test_an_incomplete_creditor_is_refused_with_what_is_missing(app, store):
    creditor.update("Acme NV", "BE71 0961 2345 6769", "GKCCBEBB", "")
    invoice = announced()
    with pytest.raises(Conflict, match="SEPA creditor identifier"):
        collection_runs.create_run(store, TODAY, UNTIL, "CORE", "test")
    assert reload(invoice).state == InvoiceState.BOOKED
    assert db.session.scalars(sa.select(Collection)).all() == []


def test_a_creditor_on_the_2019_format_may_leave_out_its_bic(app, store):
    creditor.update(
        "Acme NV", "BE71 0961 2345 6769", "", "BE69ZZZ050D000000008", 14, "pain.008.001.08"
    )
    announced()
    run = collection_runs.create_run(store, TODAY, UNTIL, "CORE", "test")
    schema = xmlschema.XMLSchema(SCHEMA.with_name("pain.008.001.08.xsd"))
    schema.validate(collection_runs.file(run, store).decode())
    assert run.pain_version == "pain.008.001.08"


def test_the_payment_page_shows_the_collection_under_way(app, payee, store, client):
    invoice = announced(on=date(2026, 11, 20))
    invoice.customer.language = "en"  # the page speaks the customer's language
    db.session.commit()
    collection_runs.create_run(store, TODAY, UNTIL, "CORE", "test")
    assert page.direct_debit_date(reload(invoice)) == date(2026, 11, 26)
    html = client.get(f"/pay/{invoice.payment_token}").get_data(as_text=True)
    assert 'id="pending-notice"' in html
    assert "Collected by direct debit on 26 Nov 2026." in html


# -- sent, cancelled ---------------------------------------------------------------------------


def test_cancelling_opens_the_documents_and_the_mandate_is_first_again(app, payee, store):
    mandate = make_mandate()
    invoice = announced(mandate)
    overdue = announced(mandate, due_date=date(2026, 11, 10), state=InvoiceState.EXPIRED)
    run = collection_runs.create_run(store, TODAY, UNTIL, "CORE", "test")
    assert reload(mandate).used is True

    collection_runs.cancel(run, "Wrong day chosen", "user:admin@example.com", TODAY)

    run = reload(run)
    assert run.status == CollectionRunStatus.CANCELLED
    assert (run.cancel_reason, run.cancelled_by) == ("Wrong day chosen", "user:admin@example.com")
    assert {c.status for c in run.collections} == {CollectionStatus.CANCELLED}
    assert reload(invoice).state == InvoiceState.BOOKED
    assert reload(overdue).state == InvoiceState.EXPIRED
    mandate = reload(mandate)
    assert (mandate.used, mandate.last_collected_on) == (False, None)
    events = db.session.scalars(
        sa.select(InvoiceEvent.message).where(InvoiceEvent.invoice_id == invoice.id)
    ).all()
    assert f"Collection run #{run.id} cancelled: Wrong day chosen" in events

    again = collection_runs.create_run(store, TODAY, UNTIL, "CORE", "test")
    assert {c.sequence_type for c in reload(again).collections} == {"FRST"}
    assert set(sequence_types(file_of(again, store)).values()) == {"FRST"}


def test_a_run_cannot_be_cancelled_without_a_reason_or_once_sent(app, payee, store):
    invoice = announced()
    run = collection_runs.create_run(store, TODAY, UNTIL, "CORE", "test")
    with pytest.raises(Invalid) as refused:
        collection_runs.cancel(run, "  ", "test", TODAY)
    assert refused.value.errors == {
        "reason": ["Give a reason: it is kept on the run and its documents."]
    }

    collection_runs.mark_sent(run, "user:admin@example.com")
    run = reload(run)
    assert (run.status, run.sent_by) == (CollectionRunStatus.SENT, "user:admin@example.com")
    with pytest.raises(Conflict, match="only a created run"):
        collection_runs.cancel(run, "Too late", "test", TODAY)
    with pytest.raises(Conflict, match="it cannot be marked as sent"):
        collection_runs.mark_sent(run, "test")
    assert reload(invoice).state == InvoiceState.PENDING


def test_a_document_under_collection_is_not_collected_again(app, payee, store):
    invoice = announced()
    collection_runs.create_run(store, TODAY, UNTIL, "CORE", "test")
    with pytest.raises(Conflict, match="Nothing to collect"):
        collection_runs.create_run(store, TODAY, UNTIL, "CORE", "test")
    plan = collection_runs.preview(TODAY, UNTIL, "CORE")
    assert [(e.reason, e.examples) for e in plan.excluded] == [
        (collection_preview.PENDING, [invoice.number])
    ]


@pytest.mark.postgres
def test_two_runs_made_at_once_collect_each_document_once(app, payee, store):
    ids = [announced().id for _ in range(6)]
    barrier = threading.Barrier(2)
    made, refused, errors = [], [], []

    def make_run():
        with app.app_context():
            try:
                barrier.wait()
                made.append(collection_runs.create_run(store, TODAY, UNTIL, "CORE", "t").id)
            except Conflict as exc:
                refused.append(str(exc))
            except BaseException as exc:  # noqa: BLE001 — reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=make_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(made) + len(refused) == 2 and made
    rows = db.session.scalars(sa.select(Collection)).all()
    assert sorted(c.invoice_id for c in rows) == sorted(ids)  # each exactly once
    runs = db.session.scalars(sa.select(CollectionRun)).all()
    assert sum(r.count for r in runs) == 6
    assert all(reload_state(i) == InvoiceState.PENDING for i in ids)


def reload_state(invoice_id: int) -> InvoiceState:
    db.session.expire_all()
    return db.session.get(Invoice, invoice_id).state


# -- the whole way: an invitation by email, then the run ----------------------------------------


def test_an_invitation_sent_by_email_is_what_lets_a_run_collect(app, payee, store, smtp_server):
    postman = invitations.Postman(
        mailer=SmtpMailer(smtp_server.host, smtp_server.port, "none"),
        sender="billing@acme.example",
        store=store,
        payment_base_url="https://collector.example/pay/",
        creditors={},
    )
    mandate = make_mandate(customer=make_customer(language="en"))
    invoice = make_invoice(
        customer=mandate.customer, profile=mandate.profile, invoice_date=date(2026, 11, 1)
    )  # due 1 December
    assert collection_runs.preview(TODAY, UNTIL, "CORE").candidates == []

    sent_on = datetime(2026, 11, 2, 9, tzinfo=UTC)
    row = invitations.queue_invitation(invoice, actor="test")
    invitations.deliver(row.id, postman, sent_on)
    assert "on 1 December 2026" in smtp_server.messages[0].get_body(("plain",)).get_content()

    run = collection_runs.create_run(store, TODAY, UNTIL, "CORE", "test")
    [collection] = reload(run).collections
    assert (collection.invoice_id, collection.collection_date) == (invoice.id, ANNOUNCED)
