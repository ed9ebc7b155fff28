"""MT940 read into the camt records: the debit/credit marks with their reversals, the
:86: details as ING, Rabobank and ABN AMRO write them, and what is refused.

The samples are written for these tests (tests/fixtures/bank/statement-2026-12-03.mt940
and the statements built below), not copied from a bank."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from collector.core.storage import FolderStore
from collector.direct_debit import bank_files
from collector.direct_debit.files.reading import BankFileError, parse, references
from collector.direct_debit.models import BankTransaction, CollectionStatus
from collector.documents.models import Payment
from collector.extensions import db
from tests.support.bank import make_creditor
from tests.support.factories import make_collection

SAMPLE = Path(__file__).parent / "fixtures" / "bank" / "statement-2026-12-03.mt940"
NL_IBAN = "NL91ABNA0417164300"


def mt940(*bookings: str, account: str = NL_IBAN, opening="1000,00", closing="1000,00") -> bytes:
    """A one-day statement of ``bookings`` (each a :61: line and its :86: lines)."""
    lines = [":20:940S261203", f":25:{account}", ":28C:00338/1", f":60F:C261202EUR{opening}"]
    lines += [line for booking in bookings for line in booking.strip().splitlines()]
    lines += [f":62F:C261203EUR{closing}", "-"]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def only_entry(content: bytes):
    (entry,) = parse(content).entries
    (tx,) = entry.transactions
    return entry, tx


def test_an_mt940_statement_reads_into_the_records_of_a_camt053():
    statement = parse(SAMPLE.read_bytes())
    assert (statement.kind, statement.version, statement.message_id) == (
        "camt.053",
        "MT940",
        "STMT20261203",
    )
    (report,) = statement.reports
    assert (report.account_iban, report.id) == ("BE62510007547061", "BE62510007547061-338")
    transfer, fee, batch, returned, free_text, stranger = report.entries

    assert (transfer.amount, transfer.credit, transfer.reversal, transfer.booked) == (
        Decimal("121.00"),
        True,
        False,
        True,
    )
    assert (transfer.booked_on, transfer.value_date) == (date(2026, 12, 3), date(2026, 12, 3))
    assert (transfer.bank_reference, transfer.bank_code) == ("2026120300042", "SWIFT NTRF")
    tx = transfer.transactions[0]
    # ING's /CNTP/ is IBAN/BIC/name/city; the name ran over the 65-character line.
    assert (tx.counterparty_iban, tx.counterparty_name) == (
        "BE71096123456769",
        "BAKKERIJ JANSSENS BV",
    )
    assert (tx.reference, tx.end_to_end_id) == ("084261366074", None)  # NOTPROVIDED

    assert (fee.credit, fee.transactions[0].remittance) == (False, "ACCOUNT FEES NOVEMBER 2026")

    assert (batch.batch_payment_info_id, batch.batch_count, batch.detailed) == (
        "PMTINF-RCUR-1",
        2,
        False,
    )
    assert batch.transactions[0].payment_info_id == "PMTINF-RCUR-1"

    # RC: a credit taken back, so a debit, marked as a reversal.
    assert (returned.credit, returned.reversal) == (False, True)
    tx = returned.transactions[0]
    assert (tx.end_to_end_id, tx.mandate_id, tx.return_reason) == (
        "E2E-000102",
        "MANDATE-000102",
        "AM04",
    )
    assert free_text.transactions[0].remittance == "FACTUUR 2026/5 +++090/9337/55493+++"
    assert references(free_text.transactions[0]) == ["090933755493"]
    assert stranger.transactions[0].counterparty_iban == NL_IBAN


def test_abn_amros_details_and_a_plain_debit_with_a_return_reason():
    entry, tx = only_entry(
        mt940(
            """
:61:2612031203D121,00N109NONREF//0000000000123
:86:/TRTP/SEPA Incasso algemeen doorlopend/CSID/NL00ZZZ404840000000/NAME/B
akkerij Jansen/MARF/MANDATE-000101/EREF/E2E-000101/REMI/2026 / 101/IBAN/N
L69INGB0123456789/BIC/INGBNL2A/RTRN/MS02
""",
            closing="879,00",
        )
    )
    assert (entry.credit, entry.reversal, entry.bank_code) == (False, False, "SWIFT N109")
    assert (tx.end_to_end_id, tx.mandate_id, tx.return_reason) == (
        "E2E-000101",
        "MANDATE-000101",
        "MS02",
    )
    assert (tx.counterparty_iban, tx.counterparty_name) == ("NL69INGB0123456789", "Bakkerij Jansen")
    assert tx.remittance == "2026 / 101"


def test_a_structured_reference_given_as_cdtrref():
    _, tx = only_entry(
        mt940(
            """
:61:2612031203C121,00N658NONREF//0000000000124
:86:/TRTP/SEPA OVERBOEKING/IBAN/BE71096123456769/BIC/GKCCBEBB/NAME/BAKKERIJ J
ANSSENS BV/REMI/CDTRREFTP//CD/SCOR/ISSR/CUR/CDTRREF/084261366074/EREF/NOTPRO
VIDED
""",
            closing="1121,00",
        )
    )
    assert (tx.reference, tx.end_to_end_id, tx.remittance) == ("084261366074", None, None)
    assert tx.counterparty_name == "BAKKERIJ JANSSENS BV"


def test_a_code_cut_by_the_line_end_is_still_a_code():
    _, tx = only_entry(
        mt940(
            """
:61:2612031203C21,00NTRFNONREF//0000000000125
:86:/EREF/INV-2026-5-PAYMENT-FROM-WEBSHOP-ORDER-77//CNTP/NL69INGB0123456789/REM
I/USTD//invoice 2026 / 5/
""",
            closing="1021,00",
        )
    )
    assert (tx.end_to_end_id, tx.remittance) == (
        "INV-2026-5-PAYMENT-FROM-WEBSHOP-ORDER-77",
        "invoice 2026 / 5",
    )
    assert tx.counterparty_iban == "NL69INGB0123456789"


def test_free_text_details_are_remittance_and_the_customer_reference_an_end_to_end_id():
    _, tx = only_entry(
        mt940(
            """
:61:2612031203C121,00NDDTE2E-000101//0000000000126
:86:Incasso Collector Test BV 2026/101 mandaat MANDATE-000101
""",
            closing="1121,00",
        )
    )
    assert (tx.end_to_end_id, tx.remittance) == (
        "E2E-000101",
        "Incasso Collector Test BV 2026/101 mandaat MANDATE-000101",
    )


@pytest.mark.parametrize(
    ("account", "iban", "other"),
    [
        ("NL91ABNA0417164300EUR", NL_IBAN, None),  # a currency after the IBAN
        ("ABNANL2A/NL91ABNA0417164300", NL_IBAN, None),  # the BIC before it
        ("0417164300", None, "0417164300"),  # a domestic account number
    ],
)
def test_the_account_is_read_from_how_banks_write_it(account, iban, other):
    (report,) = parse(mt940(account=account)).reports
    assert (report.account_iban, report.account_other_id) == (iban, other)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            b"{1:F01KREDBEBBAXXX0000000000}{2:O9400600261203KREDBEBBAXXX0000000000261203}{4:\r\n",
            b"}",
        ),
        (b"0000 01INGBNL2AXXXX00001\r\n0000 01INGBNL2AXXXX00001\r\n940 00\r\n", b""),
    ],
    ids=["swift-envelope", "ing-header"],
)
def test_a_statement_in_a_swift_envelope_or_behind_a_bank_header_is_read(before, after):
    statement = parse(before + SAMPLE.read_bytes() + after)
    assert statement.account_ibans == ["BE62510007547061"]
    assert len(statement.entries) == 6


def test_several_statements_in_one_file_are_several_reports():
    one = mt940(account=NL_IBAN)
    two = mt940(account="NL69INGB0123456789")
    assert parse(one + two).account_ibans == [NL_IBAN, "NL69INGB0123456789"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            mt940(":61:2612031203C121,00NTRFNONREF//1\r\n:86:x", closing="1000,00"),
            "goes from 1000.00 to 1000.00, but its bookings add up to 121.00",
        ),
        (mt940(":61:26120XC121,00NTRF//1\r\n:86:x"), "MT940 file cannot be read"),
        (b":20:X\r\n:61:2612031203C1,00NTRF//1\r\n:25:NL91ABNA0417164300\r\n-", "no opening"),
    ],
    ids=["balances", "garbled-61", "no-balance"],
)
def test_a_damaged_statement_is_refused_whole(content, message):
    with pytest.raises(BankFileError, match=message):
        parse(content)


# -- through the upload ------------------------------------------------------------------------


def upload(tmp_path, content: bytes):
    store = FolderStore(tmp_path)
    return bank_files.upload(store, "mt940.sta", content, "admin@example.com", date(2026, 12, 3))


def test_a_collection_is_settled_then_returned_by_mt940_bookings(app, tmp_path):
    make_creditor(NL_IBAN)
    collection = make_collection(end_to_end_id="E2E-000101")
    settled = upload(
        tmp_path,
        mt940(
            """
:61:2612031203C121,00NDDTE2E-000101//0000000000201
:86:/EREF/E2E-000101//MARF/MANDATE-000101//CSID/NL00ZZZ404840000000//CNTP/NL
69INGB0123456789/INGBNL2A/BAKKERIJ JANSEN////REMI/USTD//2026 / 101/
""",
            closing="1121,00",
        ),
    )
    assert settled.summary["settled"] == 1
    assert collection.status == CollectionStatus.SETTLED
    returned = upload(
        tmp_path,
        mt940(
            """
:61:2612031203D121,00NDDTE2E-000101//0000000000202
:86:/RTRN/MD06/EREF/E2E-000101//MARF/MANDATE-000101//CNTP/NL69INGB0123456789/
INGBNL2A/BAKKERIJ JANSEN////REMI/USTD//2026 / 101/
""",
            opening="1121,00",
        ),
    )
    assert returned.summary["returned"] == 1
    assert (collection.status, collection.reason_code) == (CollectionStatus.RETURNED, "MD06")


def test_a_debit_given_back_is_no_payment(app, tmp_path):
    """RD: a debit reversed, money back in (a fee refunded): counted, never a payment."""
    make_creditor(NL_IBAN)
    done = upload(
        tmp_path,
        mt940(
            """
:61:2612031203RD3,25NCHGNONREF//0000000000203
:86:/REMI/USTD//Terugboeking kosten/
""",
            closing="1003,25",
        ),
    )
    assert done.summary["skipped"] == 1
    assert db.session.scalar(sa.select(sa.func.count(BankTransaction.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 0


def test_a_booking_across_the_year_end_and_a_debit_balance():
    content = (
        b":20:X\r\n:25:NL91ABNA0417164300\r\n:28C:1\r\n:60F:D261230EUR100,00\r\n"
        b":61:2612310102C121,00NTRFNONREF//1\r\n:86:x\r\n:62F:C270102EUR21,00\r\n-\r\n"
    )
    entry, _ = only_entry(content)
    assert (entry.value_date, entry.booked_on) == (date(2026, 12, 31), date(2027, 1, 2))
