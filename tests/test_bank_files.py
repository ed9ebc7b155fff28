"""Uploading bank files: what camt.054, camt.053 and pain.002 files from the sandbox
bank do to collections and documents, what is refused whole, and the unmatched list."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from collector.core.clock import local_date
from collector.core.errors import Conflict, Invalid
from collector.core.formatting import format_date
from collector.core.storage import FolderStore
from collector.direct_debit import bank_files, bank_transactions, debits
from collector.direct_debit.files.reading import MAX_BYTES
from collector.direct_debit.models import (
    BankFile,
    BankTransaction,
    BankTransactionKind,
    BankTransactionStatus,
    Collection,
    CollectionStatus,
)
from collector.documents import references, timeline
from collector.documents.models import InvoiceEvent, InvoiceState, Payment, PaymentKind
from collector.extensions import db
from collector.teamleader.models import SyncStatus, TeamleaderSync
from sandbox import bank
from tests.payments.test_bank_files import BOMB
from tests.support.bank import CREDITOR_IBAN, OTHER_IBAN, make_creditor, pain008_for
from tests.support.factories import make_collection, make_invoice

SETTLED_ON = date(2026, 12, 3)
LATER = date(2026, 12, 20)
BEFORE_DUE = date(2026, 11, 25)  # the factory's documents are due 2026-12-01


@pytest.fixture
def store(tmp_path):
    return FolderStore(tmp_path / "bank-files")


@pytest.fixture
def creditor(app):
    return make_creditor()


def upload(store, content: bytes, name: str = "bank.xml", today: date = SETTLED_ON) -> BankFile:
    return bank_files.upload(store, name, content, "admin@example.com", today)


def make_run(size: int = 2) -> list[Collection]:
    first = make_collection()
    return [first] + [make_collection(run=first.run) for _ in range(size - 1)]


def rows() -> dict[str, int]:
    """How many rows each table that a bank file may touch holds."""
    models = (BankFile, BankTransaction, Payment, InvoiceEvent, TeamleaderSync)
    counted = {
        m.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in models
    }
    counted["pending collections"] = db.session.scalar(
        sa.select(sa.func.count(Collection.id)).where(Collection.status == CollectionStatus.PENDING)
    )
    return counted


def last_state_change(invoice) -> str:
    return [e.message for e in invoice.events if e.kind == timeline.STATE_CHANGED][-1]


# -- acceptance 3: settled, then a refund ----------------------------------------------------


def test_a_camt054_settles_collections_and_a_later_md06_return_reverses_one(app, creditor, store):
    first, second = make_run(2)
    first.invoice.due_date = date(2020, 1, 1)  # long past due: EXPIRED once reopened
    pain008 = pain008_for(first.run)

    settled = upload(store, bank.settle(pain008, SETTLED_ON), "camt054-settled.xml")
    assert settled.kind.value == "camt.054" and settled.account_iban == CREDITOR_IBAN
    assert settled.summary["settled"] == 2 and settled.summary["unmatched"] == 0
    for collection in (first, second):
        db.session.refresh(collection)
        assert collection.status == CollectionStatus.SETTLED
        assert collection.invoice.state == InvoiceState.PAID
        sync = collection.invoice.teamleader_sync
        assert (sync.wanted, sync.status) == (1, SyncStatus.PENDING)  # Teamleader owed
    assert [t.kind for t in settled.transactions] == [BankTransactionKind.COLLECTION] * 2
    assert all(
        t.payment_id and t.status == BankTransactionStatus.MATCHED for t in settled.transactions
    )
    assert store.get(settled.file_key) == bank.settle(pain008, SETTLED_ON)

    refund = bank.returns(pain008, {first.end_to_end_id: "MD06"}, LATER)
    returned = upload(store, refund, "camt054-refund.xml", today=LATER)
    assert returned.summary["returned"] == 1
    db.session.refresh(first)
    invoice = first.invoice
    assert first.status == CollectionStatus.RETURNED
    assert invoice.state == InvoiceState.EXPIRED
    assert "refund requested by the debtor" in last_state_change(invoice)
    reversal = db.session.scalars(sa.select(Payment).where(Payment.amount < 0)).one()
    assert (reversal.kind, reversal.reason_code) == (PaymentKind.REFUND, "MD06")
    # Teamleader is owed again: its payment for this document must be removed.
    assert (invoice.teamleader_sync.wanted, invoice.teamleader_sync.status) == (
        2,
        SyncStatus.PENDING,
    )
    (row,) = returned.transactions
    assert (row.kind, row.reason_code, row.payment_id) == (
        BankTransactionKind.RETURN,
        "MD06",
        reversal.id,
    )
    db.session.refresh(second)
    assert second.invoice.state == InvoiceState.PAID


def test_a_batch_reported_as_one_entry_settles_its_collections(app, creditor, store):
    collections = make_run(3)
    pain008 = pain008_for(collections[0].run)
    done = upload(store, bank.settle(pain008, SETTLED_ON, batch=True, details=False))
    assert done.summary["settled"] == 3
    assert {c.status for c in collections} == {CollectionStatus.SETTLED}
    assert {t.key for t in done.transactions} == {
        f"collection:{c.end_to_end_id}" for c in collections
    }


def test_a_batch_that_does_not_add_up_is_left_for_a_person(app, creditor, store):
    collections = make_run(2)
    pain008 = pain008_for(collections[0].run)
    collections[1].amount = Decimal("100.00")  # the bank credits the 121.00 of the file
    db.session.commit()
    done = upload(store, bank.settle(pain008, SETTLED_ON, batch=True, details=False))
    assert done.summary["unmatched"] == 1 and done.summary["settled"] == 0
    (row,) = done.transactions
    assert row.status == BankTransactionStatus.UNMATCHED
    assert "collections still standing total €221.00" in row.note
    assert {c.status for c in collections} == {CollectionStatus.PENDING}


def test_an_unpaid_collection_in_the_settlement_file_is_returned(app, creditor, store):
    first, second = make_run(2)
    second.invoice.due_date = date(2020, 1, 1)
    pain008 = pain008_for(first.run)
    content = bank.settle(pain008, SETTLED_ON, {second.end_to_end_id: "AM04"})
    done = upload(store, content)
    assert (done.summary["settled"], done.summary["returned"]) == (2, 1)
    assert (first.status, second.status) == (CollectionStatus.SETTLED, CollectionStatus.RETURNED)
    assert second.reason == "Returned by the bank (AM04 insufficient funds)"
    assert second.invoice.state == InvoiceState.EXPIRED


# -- pain.002 ------------------------------------------------------------------------------


def test_a_pain002_rejects_collections_and_frees_first_mandates(app, creditor, store):
    first, second = make_run(2)
    debits.refresh_use(first.mandate)
    db.session.commit()
    pain008 = pain008_for(first.run)
    report = bank.status_report(pain008, {first.end_to_end_id: "AC04"})
    done = upload(store, report, "pain002.xml", today=BEFORE_DUE)
    assert done.kind.value == "pain.002"
    assert (done.summary["rejected"], done.summary["run_id"]) == (1, first.run_id)
    assert first.status == CollectionStatus.REJECTED and second.status == CollectionStatus.PENDING
    assert first.invoice.state == InvoiceState.BOOKED
    assert last_state_change(first.invoice) == "Rejected by the bank (AC04 account closed)."
    assert not first.mandate.used
    (row,) = done.transactions
    assert (row.key, row.kind, row.reason_code) == (
        f"reject:{first.end_to_end_id}",
        BankTransactionKind.REJECT,
        "AC04",
    )


def test_a_pain002_rejecting_the_whole_file_rejects_every_collection(app, creditor, store):
    collections = make_run(3)
    pain008 = pain008_for(collections[0].run)
    done = upload(store, bank.status_report(pain008, {}, reject_all="FF01"), today=BEFORE_DUE)
    assert done.summary["rejected"] == 3
    assert {c.status for c in collections} == {CollectionStatus.REJECTED}
    assert {c.reason_code for c in collections} == {"FF01"}


def test_a_pain002_for_a_file_that_is_not_ours_is_refused(app, creditor, store):
    collections = make_run(1)
    pain008 = pain008_for(collections[0].run)
    collections[0].run.message_id = "SOMETHING-ELSE"
    db.session.commit()
    before = rows()
    with pytest.raises(bank_files.BankFileRefused, match="not one of our collection runs"):
        upload(store, bank.status_report(pain008, {collections[0].end_to_end_id: "AM04"}))
    assert rows() == before


# -- acceptance 4: refused whole, nothing changed ---------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<Document><BkToCstmrStmt>", "not well-formed XML"),
        (BOMB, "XML bomb"),
        (b"", "empty"),
        (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"/>', "not a camt.053"),
    ],
    ids=["malformed", "bomb", "empty", "wrong-kind"],
)
def test_an_unreadable_file_is_refused_and_changes_nothing(app, creditor, store, content, message):
    make_run(1)
    before = rows()
    with pytest.raises(bank_files.BankFileRefused, match=message):
        upload(store, content)
    assert rows() == before
    assert not (store.root).exists()  # not even stored


def test_a_statement_of_another_account_is_refused(app, creditor, store):
    collections = make_run(1)
    pain008 = pain008_for(collections[0].run)
    content = bank.statement(OTHER_IBAN, SETTLED_ON, [bank.Transfer(Decimal("5.00"))])
    before = rows()
    with pytest.raises(bank_files.BankFileRefused) as refused:
        upload(store, content)
    assert str(refused.value) == (
        "This statement is for account BE71 0961 2345 6769, not ours BE62 5100 0754 7061."
    )
    assert rows() == before
    assert upload(store, bank.settle(pain008, SETTLED_ON)).summary["settled"] == 1


def test_without_our_iban_no_statement_is_applied(app, store):
    with pytest.raises(bank_files.BankFileRefused, match="Set the creditor's IBAN"):
        upload(store, bank.statement(CREDITOR_IBAN, SETTLED_ON, [bank.Transfer(Decimal("5"))]))


def test_the_same_file_twice_changes_nothing(app, creditor, store):
    collections = make_run(2)
    content = bank.settle(pain008_for(collections[0].run), SETTLED_ON)
    first = upload(store, content, "monday.xml")
    before = rows()
    with pytest.raises(bank_files.AlreadyUploaded) as again:
        upload(store, content, "monday (1).xml")
    day = format_date(local_date(first.created_at))  # "1 Mar 2026"
    assert str(again.value) == (
        f"This file was already uploaded on {day} (as monday.xml); nothing was changed."
    )
    assert rows() == before


# -- a camt.054, then the camt.053 repeating it --------------------------------------------------


def test_the_statement_repeating_notifications_counts_everything_once(app, creditor, store):
    collections = make_run(2)
    invoice = make_invoice()
    transfer = bank.Transfer(Decimal("121.00"), reference=references.structured_reference(invoice))
    stranger = bank.Transfer(Decimal("7.00"), remittance="donation")
    settlement = bank.settle(pain008_for(collections[0].run), SETTLED_ON)
    transfers = bank.notification(CREDITOR_IBAN, SETTLED_ON, [transfer, stranger])
    upload(store, settlement, "settlement.xml")
    upload(store, transfers, "transfers.xml")
    before = rows()

    fee = bank.Debit(Decimal("2.50"), remittance="fees")
    statement = bank.statement(
        CREDITOR_IBAN, SETTLED_ON, debits=[fee], repeat=[settlement, transfers]
    )
    done = upload(store, statement, "statement.xml")
    assert done.kind.value == "camt.053"
    assert done.summary["known"] == 4  # two collections, two transfers
    assert done.summary["skipped"] == 1  # the fee
    assert sum(done.summary[k] for k in ("settled", "matched", "unmatched", "returned")) == 0
    after = rows()
    assert after.pop("BankFile") == before.pop("BankFile") + 1
    assert after == before
    assert len(bank_transactions.unmatched()) == 1


def test_two_alike_transfers_in_one_file_are_two(app, creditor, store):
    alike = bank.Transfer(Decimal("50.00"), remittance="gift")
    done = upload(store, bank.notification(CREDITOR_IBAN, SETTLED_ON, [alike, alike]))
    assert done.summary["unmatched"] == 2
    repeated = bank.statement(
        CREDITOR_IBAN,
        SETTLED_ON,
        repeat=[bank.notification(CREDITOR_IBAN, SETTLED_ON, [alike, alike])],
    )
    assert upload(store, repeated).summary["known"] == 2


def test_pending_entries_and_debits_that_are_not_ours_are_skipped(app, creditor, store):
    content = bank.notification(
        CREDITOR_IBAN,
        SETTLED_ON,
        [bank.Transfer(Decimal("80.00"), pending=True)],
        debits=[bank.Debit(Decimal("40.00"))],
    )
    done = upload(store, content)
    assert (done.summary["skipped"], done.summary["pending"]) == (2, 1)
    assert done.transactions == []


# -- transfers by reference, and by hand ------------------------------------------------------


def test_a_transfer_is_matched_by_teamleaders_or_our_reference(app, creditor, store):
    teamleaders = make_invoice(payment_reference="+++084/2613/66074+++")
    ours = make_invoice()
    content = bank.notification(
        CREDITOR_IBAN,
        SETTLED_ON,
        [
            bank.Transfer(Decimal("121.00"), reference="084261366074"),
            bank.Transfer(
                Decimal("21.00"),
                remittance=f"invoice {ours.number} {references.structured_reference(ours)}",
                debtor_name="Bakkerij Janssens",
            ),
        ],
    )
    done = upload(store, content)
    assert done.summary["matched"] == 2
    assert teamleaders.state == InvoiceState.PAID
    assert (ours.state, ours.amount_due) == (InvoiceState.BOOKED, Decimal("100.00"))
    payment = ours.payments[0]
    assert payment.key.startswith("bank:transfer:")
    assert payment.reason == "Bank transfer from Bakkerij Janssens."
    assert {t.invoice_id for t in done.transactions} == {teamleaders.id, ours.id}


@pytest.mark.parametrize(
    ("state", "amount", "status", "note"),
    [
        # A paid document's reference: a possible double payment (tests/test_double_payments).
        (InvoiceState.PAID, "121.00", "double_payment", "is paid already: a possible double"),
        (InvoiceState.PENDING, "121.00", "unmatched", "being collected by direct debit"),
        (InvoiceState.BOOKED, "150.00", "unmatched", "€150.00 is more than the €121.00 due"),
    ],
)
def test_a_transfer_that_cannot_simply_pay_its_document_waits_for_a_person(
    app, creditor, store, state, amount, status, note
):
    invoice = make_invoice(state=state)
    transfer = bank.Transfer(Decimal(amount), reference=references.structured_reference(invoice))
    done = upload(store, bank.notification(CREDITOR_IBAN, SETTLED_ON, [transfer]))
    (row,) = done.transactions
    assert row.status == BankTransactionStatus(status) and note in row.note
    assert invoice.payments == []


def test_unmatched_money_is_listed_then_matched_or_dismissed_by_hand(app, creditor, store):
    invoice = make_invoice(number="2026 / 77")
    content = bank.notification(
        CREDITOR_IBAN,
        SETTLED_ON,
        [
            bank.Transfer(Decimal("121.00"), remittance="invoice 2026/77", debtor_name="Janssens"),
            bank.Transfer(Decimal("9.99"), remittance="wrong account"),
        ],
    )
    done = upload(store, content)
    assert done.summary["unmatched"] == 2
    listed = bank_transactions.unmatched()
    assert [t.amount for t in listed] == [Decimal("121.00"), Decimal("9.99")]
    assert listed[0].note == "The transfer carries no structured reference."

    with pytest.raises(Invalid) as refused:
        bank_transactions.find_document("2026 / 78")
    assert refused.value.errors == {"document": ["No invoice is numbered or referenced 2026 / 78."]}
    found = bank_transactions.find_document(" 2026 / 77 ")
    payment = bank_transactions.match(listed[0], found, "admin@example.com")
    assert payment.key == f"bank:{listed[0].key}"
    assert invoice.state == InvoiceState.PAID and invoice.teamleader_sync.wanted == 1
    assert listed[0].status == BankTransactionStatus.MATCHED
    assert (listed[0].invoice_id, listed[0].resolved_by) == (invoice.id, "admin@example.com")
    with pytest.raises(Conflict, match="matched already"):
        bank_transactions.match(listed[0], found, "admin@example.com")

    with pytest.raises(Invalid) as refused:
        bank_transactions.dismiss(listed[1], "  ", "admin@example.com")
    assert refused.value.errors == {"reason": ["Say why: it is kept with the transaction."]}
    bank_transactions.dismiss(listed[1], "Paid to us by mistake; sent back.", "admin@example.com")
    assert listed[1].status == BankTransactionStatus.DISMISSED
    assert bank_transactions.unmatched() == []


def test_matching_by_hand_refuses_a_document_with_nothing_due(app, creditor, store):
    paid = make_invoice(state=InvoiceState.PAID, amount_due=Decimal("0.00"))
    done = upload(
        store, bank.notification(CREDITOR_IBAN, SETTLED_ON, [bank.Transfer(Decimal("5"))])
    )
    (row,) = done.transactions
    with pytest.raises(Conflict, match="nothing is due"):
        bank_transactions.match(row, paid, "admin@example.com")
    assert row.status == BankTransactionStatus.UNMATCHED and paid.payments == []


def test_a_credit_for_a_rejected_collection_is_not_applied(app, creditor, store):
    collections = make_run(1)
    pain008 = pain008_for(collections[0].run)
    upload(store, bank.status_report(pain008, {collections[0].end_to_end_id: "AM04"}))
    done = upload(store, bank.settle(pain008, SETTLED_ON))
    assert done.summary["unmatched"] == 1
    assert collections[0].status == CollectionStatus.REJECTED
    assert "was rejected before this credit arrived" in done.transactions[0].note


# -- at the same time ---------------------------------------------------------------------------


def upload_together(app, store, contents: list[bytes]) -> list[BaseException | BankFile]:
    """Upload ``contents`` from as many threads at once; what each got back."""
    barrier = threading.Barrier(len(contents))
    outcomes: list = [None] * len(contents)

    def attempt(i: int) -> None:
        with app.app_context():
            try:
                barrier.wait()
                outcomes[i] = dict(upload(store, contents[i], f"file-{i}.xml").summary)
            except BaseException as exc:  # noqa: BLE001 — reported to the test
                outcomes[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(contents))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.postgres
def test_a_notification_and_its_statement_uploaded_at_once_count_each_fact_once(
    app, creditor, store
):
    collections = make_run(4)
    settlement = bank.settle(pain008_for(collections[0].run), SETTLED_ON)
    statement = bank.statement(CREDITOR_IBAN, SETTLED_ON, repeat=[settlement])
    ids = [c.id for c in collections]
    db.session.remove()

    one, other = upload_together(app, store, [settlement, statement])
    assert isinstance(one, dict) and isinstance(other, dict)
    assert one["settled"] + other["settled"] == 4
    assert one["known"] + other["known"] == 4
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 4
    statuses = db.session.scalars(sa.select(Collection.status).where(Collection.id.in_(ids)))
    assert set(statuses) == {CollectionStatus.SETTLED}


@pytest.mark.postgres
def test_the_same_file_uploaded_twice_at_once_is_applied_once(app, creditor, store):
    collections = make_run(2)
    settlement = bank.settle(pain008_for(collections[0].run), SETTLED_ON)
    db.session.remove()

    outcomes = upload_together(app, store, [settlement, settlement])
    assert sorted(type(o).__name__ for o in outcomes) == ["AlreadyUploaded", "dict"]
    assert db.session.scalar(sa.select(sa.func.count(BankFile.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 2


def test_a_file_over_the_size_cap_is_refused_and_changes_nothing(app, creditor, store):
    before = rows()
    with pytest.raises(bank_files.BankFileRefused, match="up to 20 MB"):
        upload(store, b"<Document>" + b" " * MAX_BYTES + b"</Document>")
    assert rows() == before
