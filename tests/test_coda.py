"""CODA (Febelfin, version 2) read into the camt records: the fields at their positions,
the totals and their details, and the damaged or unexpected files refused whole.

The sample (tests/fixtures/bank/statement-2026-12-03.coda) was written for these tests,
record by record, from the specification's layouts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from collector.core.storage import FolderStore
from collector.direct_debit import bank_files
from collector.direct_debit.files.reading import BankFileError, parse, references
from collector.direct_debit.models import CollectionStatus
from tests.support.bank import make_creditor
from tests.support.factories import make_collection

SAMPLE = Path(__file__).parent / "fixtures" / "bank" / "statement-2026-12-03.coda"
LINES = SAMPLE.read_text("cp1252").splitlines()
IBAN = "BE62510007547061"


def coda(lines: list[str]) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def read(lines: list[str]):
    return parse(coda(lines))


def put(lines: list[str], index: int, position: int, text: str) -> list[str]:
    """``lines`` with ``text`` written into line ``index`` from 1-based ``position``."""
    changed = list(lines)
    line = changed[index]
    changed[index] = line[: position - 1] + text + line[position - 1 + len(text) :]
    return changed


def recounted(lines: list[str]) -> list[str]:
    """``lines`` with the trailer's record count (records 1, 2, 3 and 8) made right again,
    after a test added or removed records."""
    count = sum(1 for line in lines if line[:1] in ("1", "2", "3", "8"))
    return put(lines, len(lines) - 1, 17, f"{count:06d}")


def index_of(prefix: str) -> int:
    return next(i for i, line in enumerate(LINES) if line.startswith(prefix))


def test_a_coda_statement_reads_into_the_records_of_a_camt053():
    statement = read(LINES)
    assert (statement.kind, statement.version) == ("camt.053", "CODA 2")
    (report,) = statement.reports
    assert (report.account_iban, report.id, report.account_other_id) == (IBAN, f"{IBAN}-338", None)
    transfer, fee, batch, returned, free_text, stranger = report.entries

    assert (transfer.amount, transfer.currency, transfer.credit, transfer.booked) == (
        Decimal("121.00"),
        "EUR",
        True,
        True,
    )
    assert (transfer.booked_on, transfer.value_date) == (date(2026, 12, 3), date(2026, 12, 3))
    assert (transfer.bank_reference, transfer.bank_code) == ("2026120300042", "CODA 00150000")
    (tx,) = transfer.transactions
    assert (tx.reference, tx.remittance, tx.end_to_end_id) == ("084261366074", None, None)
    assert (tx.counterparty_iban, tx.counterparty_name) == (
        "BE71096123456769",
        "BAKKERIJ JANSSENS BV",
    )

    assert (fee.amount, fee.credit, fee.transactions[0].remittance) == (
        Decimal("3.25"),
        False,
        "ACCOUNT FEES NOVEMBER 2026",
    )

    assert (batch.amount, batch.detailed, batch.batch_count) == (Decimal("366.00"), True, 2)
    assert batch.batch_payment_info_id == "PMTINF-RCUR-1"
    assert [(t.end_to_end_id, t.amount, t.payment_info_id) for t in batch.transactions] == [
        ("E2E-000101", Decimal("121.00"), "PMTINF-RCUR-1"),
        ("E2E-000102", Decimal("245.00"), "PMTINF-RCUR-1"),
    ]
    assert batch.transactions[1].counterparty_name == "DEBTOR TWO"

    assert (returned.credit, returned.amount) == (False, Decimal("245.00"))
    (tx,) = returned.transactions
    assert (tx.end_to_end_id, tx.return_reason) == ("E2E-000102", "AM04")

    (tx,) = free_text.transactions
    assert tx.remittance == "FACTUUR 2026/5 +++090/9337/55493+++"
    assert references(tx) == ["090933755493"]
    assert stranger.transactions[0].counterparty_iban == "NL91ABNA0417164300"


def test_a_value_date_the_bank_does_not_know_is_read_as_none():
    # 000000 is allowed by the specification; febelfin-coda 0.5 stops on it.
    lines = put(LINES, index_of("21000100"), 48, "000000")
    transfer = read(lines).entries[0]
    assert (transfer.value_date, transfer.booked_on) == (None, date(2026, 12, 3))


def test_details_of_details_are_read_past_and_are_no_payments():
    # A type-9 movement (a detail's detail) under the batch; febelfin-coda 0.5 stops on it.
    at = index_of("2300030002")
    detail = LINES[index_of("2100030002")]
    nine = detail[:6] + "0003" + detail[10:53] + "9" + detail[54:]
    lines = recounted([*LINES[: at + 1], nine, *LINES[at + 1 :]])
    batch = read(lines).entries[2]
    assert [t.end_to_end_id for t in batch.transactions] == ["E2E-000101", "E2E-000102"]


def test_a_total_without_its_details_stands_for_its_batch():
    start, end = index_of("2100030001"), index_of("21000400")
    batch = read(recounted(LINES[:start] + LINES[end:])).entries[2]
    assert (batch.detailed, batch.batch_count) == (False, None)
    (tx,) = batch.transactions
    assert (tx.amount, tx.payment_info_id, tx.end_to_end_id) == (
        Decimal("366.00"),
        "PMTINF-RCUR-1",
        None,
    )


def test_a_batch_total_without_details_settles_its_collections(app, tmp_path):
    make_creditor()
    first = make_collection(end_to_end_id="E2E-000101", payment_info_id="PMTINF-RCUR-1")
    second = make_collection(
        run=first.run, end_to_end_id="E2E-000102", payment_info_id="PMTINF-RCUR-1"
    )
    second.amount = Decimal("245.00")
    start, end = index_of("2100030001"), index_of("21000400")
    lines = recounted(LINES[:start] + LINES[end:])
    done = bank_files.upload(
        FolderStore(tmp_path), "coda.txt", coda(lines), "admin@example.com", date(2026, 12, 3)
    )
    assert (done.summary["settled"], done.summary["returned"]) == (2, 1)
    assert (first.status, second.status) == (CollectionStatus.SETTLED, CollectionStatus.RETURNED)


def test_details_that_do_not_add_up_to_their_total_are_refused():
    lines = put(LINES, index_of("2100030002"), 33, "000000000244000")
    with pytest.raises(BankFileError, match="books 366.00 EUR, but its 2 details add up to 365"):
        read(lines)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda ls: ls[:-1], "ends without its trailer"),
        (
            lambda ls: [ls[0], *ls[2:]],
            "announces 24 records, 515.00 in and 248.25 out, but holds 23",
        ),
        (lambda ls: [line for line in ls if not line.startswith("2300060000")], "announces 24"),
        (lambda ls: put(ls, len(ls) - 1, 38, "000000000515010"), "515.01 in"),
        (lambda ls: recounted(put(ls, len(ls) - 2, 43, "000000001266760")), "do not explain"),
        (lambda ls: put(ls, 0, 128, "1"), "version 1; version 2 is read"),
        (lambda ls: put(ls, 2, 33, "00000000012A000"), "not a CODA amount"),
        (lambda ls: put(ls, 2, 116, "311326"), "'311326' is not a date"),
        (lambda ls: [ls[0], ls[1] + "X", *ls[2:]], "129 characters long"),
        (lambda ls: put(ls, 2, 1, "7"), "not a CODA record"),
    ],
    ids=[
        "cut-off",
        "no-old-balance",
        "record-missing",
        "totals",
        "balances",
        "version-1",
        "amount",
        "date",
        "long-line",
        "record-type",
    ],
)
def test_a_damaged_or_unexpected_file_is_refused_whole(change, message):
    with pytest.raises(BankFileError, match=message):
        read(change(LINES))


def test_lines_stripped_of_their_trailing_blanks_read_the_same():
    assert read([line.rstrip() for line in LINES]) == read(LINES)


def test_an_old_belgian_account_number_is_read_as_its_iban():
    lines = put(LINES, 1, 2, "0")
    lines = put(lines, 1, 6, "510007547061 EUR BE".ljust(37))
    (report,) = read(lines).reports
    assert (report.account_iban, report.entries[0].currency) == (IBAN, "EUR")


def test_a_foreign_account_without_an_iban_is_named_as_it_is():
    lines = put(LINES, 1, 2, "1")
    lines = put(lines, 1, 6, "0417164300".ljust(34) + "USD")
    (report,) = read(lines).reports
    assert (report.account_iban, report.account_other_id) == (None, "0417164300")
    assert report.entries[0].currency == "USD"


def test_several_statements_in_one_file_are_read_as_several_accounts():
    other = "BE71096123456769"
    second = [line.replace(IBAN, other) for line in LINES]
    statement = read(LINES + second)
    assert statement.account_ibans == [IBAN, other]
    assert len(statement.entries) == 12


def test_names_in_windows_1252_keep_their_accents():
    at = index_of("2300010000")
    lines = put(LINES, at, 48, "CAFÉ SØRENSEN".ljust(35))
    tx = read(lines).entries[0].transactions[0]
    assert tx.counterparty_name == "CAFÉ SØRENSEN"
