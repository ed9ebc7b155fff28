"""What real bank files do that the happy path does not (issue 26, points 1–7): each
test feeds a hand-written, bank-shaped file with one quirk through the parser or the
upload, and checks it is read right — or refused, or left for a person, with the reason."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from collector.core.errors import Conflict
from collector.core.storage import FolderStore
from collector.direct_debit import bank_files, bank_transactions, collection_outcomes
from collector.direct_debit.files.reading import BankFileError, parse
from collector.direct_debit.models import (
    BankFile,
    BankTransaction,
    BankTransactionKind,
    Collection,
    CollectionStatus,
)
from collector.documents.models import InvoiceState, Payment
from collector.extensions import db
from tests import test_bank_file_quirks_samples as sample
from tests.support.bank import CREDITOR_IBAN, OTHER_IBAN, make_creditor
from tests.support.factories import make_collection, make_invoice

DAY = date(2026, 12, 3)
OURS = sample.iban_account(CREDITOR_IBAN)


@pytest.fixture
def store(tmp_path):
    return FolderStore(tmp_path / "bank-files")


@pytest.fixture
def creditor(app):
    return make_creditor()


def upload(store, content: bytes, name: str = "statement.xml") -> BankFile:
    return bank_files.upload(store, name, content, "admin@example.com", DAY)


def make_run(size: int) -> list[Collection]:
    first = make_collection()
    return [first] + [make_collection(run=first.run) for _ in range(size - 1)]


def rows() -> dict[str, int]:
    models = (BankFile, BankTransaction, Payment)
    return {
        m.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in models
    }


# -- 1. pain.002 naming the original message in capitals -------------------------------------


def test_a_pain002_answering_pain008_in_capitals_rejects_its_collections(app, creditor, store):
    collections = make_run(4)
    run = collections[0].run
    reasons = ("AC01", "MS02", "MD06", "AM04")
    codes = {c.end_to_end_id: code for c, code in zip(collections, reasons, strict=True)}
    report = sample.status_report(
        run.message_id, "PAIN.008.001.02", collections[0].payment_info_id, codes
    )
    done = upload(store, report, "pain002.xml")
    assert (done.kind.value, done.summary["rejected"]) == ("pain.002", 4)
    assert [c.reason_code for c in collections] == ["AC01", "MS02", "MD06", "AM04"]
    assert {c.status for c in collections} == {CollectionStatus.REJECTED}


# -- 2. transaction details without amounts ----------------------------------------------------


def test_details_without_amounts_under_a_batch_entry_are_refused_not_given_the_whole_entry():
    details = [sample.collected(f"E2E-{n}") for n in range(3)]
    content = sample.statement(
        (OURS, [sample.entry("200000.00", details, batch=sample.batch("PMTINF-1", 3))])
    )
    with pytest.raises(BankFileError) as refused:
        parse(content)
    assert str(refused.value) == (
        "The entry 1, transaction 1 gives no amount, and its entry holds several "
        "transactions, so what each one is cannot be known; nothing in the file was "
        "applied. Ask the bank for the statement with the amount of each transaction."
    )


def test_a_single_detail_without_an_amount_takes_its_entry_amount():
    content = sample.statement((OURS, [sample.entry("4.50", [sample.collected("E2E-1")])]))
    (tx,) = parse(content).entries[0].transactions
    assert (tx.amount, tx.currency, tx.end_to_end_id) == (Decimal("4.50"), "EUR", "E2E-1")


def test_details_that_do_not_add_up_to_their_entry_are_refused(app, creditor, store):
    first, second = make_run(2)
    details = [
        sample.collected(first.end_to_end_id, "121.00"),
        sample.collected(second.end_to_end_id, "121.00"),
    ]
    content = sample.statement(
        (OURS, [sample.entry("4.50", details, batch=sample.batch(first.payment_info_id, 2))])
    )
    before = rows()
    with pytest.raises(bank_files.BankFileRefused) as refused:
        upload(store, content)
    assert str(refused.value) == (
        "Entry 1 books 4.50 EUR, but its 2 transactions add up to 242.00 EUR; the file was "
        "refused and nothing was applied. Ask the bank for a corrected statement."
    )
    assert rows() == before
    assert {first.status, second.status} == {CollectionStatus.PENDING}


def test_a_batch_credited_net_of_its_charges_settles_each_collection_in_full(app, creditor, store):
    first, second = make_run(2)
    details = [
        sample.collected(first.end_to_end_id, "121.00"),
        sample.collected(second.end_to_end_id, "121.00"),
    ]
    netted = sample.entry(
        "237.50", details, batch=sample.batch(first.payment_info_id, 2), charges="4.50"
    )
    done = upload(store, sample.statement((OURS, [netted])))
    assert done.summary["settled"] == 2
    assert [p.amount for p in first.invoice.payments + second.invoice.payments] == [
        Decimal("121.00"),
        Decimal("121.00"),
    ]


# -- 3. no collection settled by another amount or currency ------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "booked"),
    [("1.50", "CHF", "CHF1.50"), ("121.00", "CHF", "CHF121.00"), ("120.99", "EUR", "€120.99")],
    ids=["amount-and-currency", "currency", "amount"],
)
def test_a_credit_of_another_amount_or_currency_settles_nothing_and_waits_for_a_person(
    app, creditor, store, amount, currency, booked
):
    (collection,) = make_run(1)
    detail = sample.collected(collection.end_to_end_id, amount, currency)
    done = upload(
        store, sample.statement((OURS, [sample.entry(amount, [detail], currency=currency)]))
    )
    assert (done.summary["settled"], done.summary["unmatched"]) == (0, 1)
    assert collection.status == CollectionStatus.PENDING
    assert collection.invoice.state == InvoiceState.PENDING and collection.invoice.payments == []
    (row,) = bank_transactions.unmatched()
    assert (row.kind, row.collection_id) == (BankTransactionKind.COLLECTION, collection.id)
    assert row.note == (
        f"Collection {collection.end_to_end_id} was for €121.00, but the bank booked "
        f"{booked}: nothing was applied. Check with the bank, then dismiss it or match it by "
        "hand."
    )
    # The right credit arriving afterwards still settles it.
    right = sample.collected(collection.end_to_end_id, "121.00")
    later = sample.statement((OURS, [sample.entry("121.00", [right])]), message_id="STMT-2")
    assert upload(store, later).summary["settled"] == 1
    assert collection.status == CollectionStatus.SETTLED


def test_a_batch_credit_in_another_currency_settles_nothing(app, creditor, store):
    collections = make_run(2)
    entry = sample.entry(
        "242.00", currency="CHF", batch=sample.batch(collections[0].payment_info_id, 2)
    )
    done = upload(store, sample.statement((OURS, [entry])))
    assert (done.summary["settled"], done.summary["unmatched"]) == (0, 1)
    assert {c.status for c in collections} == {CollectionStatus.PENDING}
    (row,) = done.transactions
    assert "still standing total €242.00: nothing was settled" in row.note


def test_a_return_of_another_amount_reverses_nothing(app, creditor, store):
    (collection,) = make_run(1)
    settled = sample.collected(collection.end_to_end_id, "121.00")
    upload(store, sample.statement((OURS, [sample.entry("121.00", [settled])])))
    assert collection.status == CollectionStatus.SETTLED
    back = sample.collected(collection.end_to_end_id, "12.10")
    returned = sample.statement(
        (OURS, [sample.entry("12.10", [back], credit=False)]), message_id="STMT-2"
    )
    done = upload(store, returned)
    assert (done.summary["returned"], done.summary["unmatched"]) == (0, 1)
    assert collection.status == CollectionStatus.SETTLED
    assert collection.invoice.state == InvoiceState.PAID
    (row,) = done.transactions
    assert row.kind == BankTransactionKind.RETURN and "bank booked €12.10" in row.note
    # Money taken back is never matched by hand as a payment either.
    with pytest.raises(Conflict, match="money the bank took back"):
        bank_transactions.match(row, make_invoice(), "admin@example.com")


def test_settle_itself_refuses_another_amount(app):
    collection = make_collection()
    with pytest.raises(collection_outcomes.AmountMismatch, match=r"bank booked US\$121.00"):
        collection_outcomes.settle(collection, Decimal("121.00"), DAY, "bank", "USD")
    assert collection.status == CollectionStatus.PENDING


# -- 4. accounts named by their domestic number ---------------------------------------------


@pytest.mark.parametrize(
    ("iban", "number"),
    [
        (CREDITOR_IBAN, "510-0075470-61"),  # Belgian: the BBAN, printed 3-7-2
        ("NL91ABNA0417164300", "417164300"),  # Dutch: the account number, no leading zero
    ],
    ids=["belgian", "dutch"],
)
def test_a_statement_naming_our_account_by_its_domestic_number_is_applied(app, store, iban, number):
    make_creditor(iban)
    invoice = make_invoice(payment_reference="+++084/2613/66074+++")
    detail = sample.transfer("121.00", reference="084261366074")
    content = sample.statement(
        (sample.numbered_account(number), [sample.entry("121.00", [detail], code="PMNT/RCDT/ESCT")])
    )
    done = upload(store, content)
    assert (done.account_iban, done.summary["matched"]) == (iban, 1)
    assert invoice.state == InvoiceState.PAID


def test_a_statement_naming_another_number_says_which_setting_to_change(app, creditor, store):
    content = sample.statement((sample.numbered_account("001-2345678-90"), []))
    with pytest.raises(bank_files.BankFileRefused) as refused:
        upload(store, content)
    assert str(refused.value) == (
        "This statement names its account by number 001-2345678-90, not by IBAN, and that "
        "is not the number of our account BE62 5100 0754 7061. If it is our account, set its "
        "IBAN as the creditor's IBAN in Settings."
    )


# -- 5. several accounts in one file ---------------------------------------------------------------


def test_a_statement_of_several_accounts_applies_ours_and_names_the_others(app, creditor, store):
    (collection,) = make_run(1)
    ours = [sample.entry("121.00", [sample.collected(collection.end_to_end_id, "121.00")])]
    theirs = [sample.entry("99.00", [sample.transfer("99.00", remittance="rent")])]
    content = sample.statement(
        (sample.iban_account(OTHER_IBAN), theirs),
        (OURS, ours),
        (sample.numbered_account("NL02RABO0123456789"), []),
    )
    done = upload(store, content)
    assert done.account_iban == CREDITOR_IBAN
    assert (done.summary["settled"], done.summary["unmatched"]) == (1, 0)
    assert done.summary["other_accounts"] == 2
    assert done.summary["other_account_names"] == ["BE71 0961 2345 6769", "NL02RABO0123456789"]
    assert collection.status == CollectionStatus.SETTLED
    assert ("other_accounts", 2) in bank_files.counts_of(done)


def test_a_statement_of_several_accounts_none_ours_is_refused(app, creditor, store):
    content = sample.statement(
        (sample.iban_account(OTHER_IBAN), []), (sample.numbered_account("123456789"), [])
    )
    with pytest.raises(bank_files.BankFileRefused) as refused:
        upload(store, content)
    assert str(refused.value) == (
        "This statement is for accounts BE71 0961 2345 6769, 123456789; none is ours "
        "BE62 5100 0754 7061."
    )


# -- 6. placeholders, and transfers of ours coming back -----------------------------------------


def test_a_notprovided_payment_information_id_is_no_id():
    detail = sample.collected("E2E-1", "4.50")
    parsed = parse(
        sample.statement(
            (OURS, [sample.entry("4.50", [detail], batch=sample.batch("NOTPROVIDED", 1))])
        )
    )
    (entry,) = parsed.entries
    assert entry.batch_payment_info_id is None
    assert entry.transactions[0].payment_info_id is None


def test_a_transfer_of_ours_coming_back_is_not_taken_for_a_customers_payment(app, creditor, store):
    # We refunded a customer with their invoice's reference; their bank sent it back.
    invoice = make_invoice(payment_reference="+++084/2613/66074+++")
    detail = sample.transfer("121.00", reference="084261366074", return_reason="AC04")
    content = sample.statement((OURS, [sample.entry("121.00", [detail], code="PMNT/ICDT/RRTN")]))
    done = upload(store, content)
    assert (done.summary["matched"], done.summary["unmatched"]) == (0, 1)
    assert done.summary["transfers_returned"] == 1
    assert invoice.state == InvoiceState.BOOKED and invoice.payments == []
    (row,) = bank_transactions.unmatched()
    assert row.reason_code == "AC04"
    assert row.note == (
        "A transfer we sent came back (AC04 account closed): this is not a customer's "
        "payment. Pay it again to the right account, then dismiss this."
    )


# -- 7. structured references: checked, and the oldest open document ------------------------------


@pytest.mark.parametrize(
    "reference",
    ["+++084/2613/66075+++", "RF19539007547034"],
    ids=["ogm-wrong-check-digits", "rf-wrong-check-digits"],
)
def test_an_invalid_structured_reference_matches_nothing(app, creditor, store, reference):
    # The document carries the same mistyped reference, so only the check can stop it.
    invoice = make_invoice(payment_reference=reference)
    detail = sample.transfer("121.00", reference=reference)
    done = upload(store, sample.statement((OURS, [sample.entry("121.00", [detail])])))
    assert (done.summary["matched"], done.summary["unmatched"]) == (0, 1)
    assert invoice.payments == []
    (row,) = done.transactions
    assert row.note == (
        f"The reference {reference} is not a valid structured reference (its check digits "
        "are wrong), so it names no document for sure."
    )


def test_a_valid_rf_creditor_reference_matches_however_it_is_spaced(app, creditor, store):
    invoice = make_invoice(payment_reference="RF18 5390 0754 7034")
    detail = sample.transfer("121.00", reference="RF18539007547034")
    done = upload(store, sample.statement((OURS, [sample.entry("121.00", [detail])])))
    assert done.summary["matched"] == 1 and invoice.state == InvoiceState.PAID


def test_a_reference_on_several_open_documents_pays_the_oldest(app, creditor, store):
    newer = make_invoice(payment_reference="+++084/2613/66074+++", invoice_date=date(2026, 11, 20))
    paid = make_invoice(
        payment_reference="084261366074",
        invoice_date=date(2026, 10, 1),
        state=InvoiceState.PAID,
        amount_due=Decimal("0.00"),
    )
    older = make_invoice(payment_reference="+++084/2613/66074+++", invoice_date=date(2026, 11, 2))
    detail = sample.transfer("121.00", reference="+++084/2613/66074+++")
    done = upload(store, sample.statement((OURS, [sample.entry("121.00", [detail])])))
    assert done.summary["matched"] == 1
    assert older.state == InvoiceState.PAID
    assert newer.state == InvoiceState.BOOKED and paid.payments == []
