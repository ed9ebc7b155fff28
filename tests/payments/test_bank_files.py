"""Reading bank files: camt.053, camt.054 and pain.002 in the versions banks send, and
refusing everything else with a message a person understands."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sepaxml import SepaDD

from collector.direct_debit.files.camt import CamtEntry, CamtTransaction
from collector.direct_debit.files.reading import (
    MAX_BYTES,
    BankFileError,
    CamtFile,
    StatusReport,
    parse,
    references,
    transfer_fingerprint,
)
from sandbox import bank

FIXTURES = Path(__file__).parent.parent / "fixtures" / "bank"
ACCOUNT = "BE62510007547061"
DAY = date(2026, 12, 3)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def pain008() -> bytes:
    sepa = SepaDD(
        {
            "name": "Collector Test BV",
            "IBAN": ACCOUNT,
            "BIC": "VAPEBE22",
            "batch": True,
            "creditor_id": "BE69ZZZ050D000000008",
            "currency": "EUR",
        },
        schema="pain.008.001.02",
    )
    for n, kind in enumerate(("FRST", "RCUR", "RCUR"), 1):
        sepa.add_payment(
            {
                "name": f"Debtor {n}",
                "IBAN": "BE68539007547034",
                "amount": 12100 * n,
                "type": kind,
                "collection_date": DAY,
                "mandate_id": f"MANDATE-{n}",
                "mandate_date": date(2025, 1, 15),
                "description": f"2026 / {n}",
                "endtoend_id": f"E2E-{n}",
            }
        )
    return sepa.export(validate=True)


# -- camt --------------------------------------------------------------------------------


@pytest.mark.parametrize("version", bank.CAMT054_VERSIONS)
def test_a_camt054_of_settled_collections_reads_per_collection(version):
    parsed = parse(bank.settle(pain008(), DAY, version=version))
    assert isinstance(parsed, CamtFile)
    assert (parsed.kind, parsed.version, parsed.account_ibans) == ("camt.054", version, [ACCOUNT])
    entries = parsed.entries
    assert [e.amount for e in entries] == [Decimal("121.00"), Decimal("242.00"), Decimal("363.00")]
    first = entries[0]
    assert first.credit and first.booked and not first.reversal
    assert (first.booked_on, first.bank_code) == (DAY, "PMNT/IDDT/ESDD")
    (tx,) = first.transactions
    assert (tx.end_to_end_id, tx.mandate_id, tx.amount) == ("E2E-1", "MANDATE-1", Decimal("121.00"))
    # The counterparty is the debtor, never our own account named as creditor.
    assert (tx.counterparty_name, tx.counterparty_iban) == ("Debtor 1", "BE68539007547034")


@pytest.mark.parametrize("version", bank.CAMT054_VERSIONS)
def test_a_return_carries_its_reason_code(version):
    parsed = parse(bank.returns(pain008(), {"E2E-2": "MD06"}, DAY, version=version))
    (entry,) = parsed.entries
    assert not entry.credit and entry.amount == Decimal("242.00")
    (tx,) = entry.transactions
    assert (tx.end_to_end_id, tx.return_reason) == ("E2E-2", "MD06")


def test_a_batch_without_details_names_only_its_payment_information():
    parsed = parse(bank.settle(pain008(), DAY, batch=True, details=False))
    amounts = sorted(e.amount for e in parsed.entries)
    assert amounts == [Decimal("121.00"), Decimal("605.00")]
    batch = next(e for e in parsed.entries if e.amount == Decimal("605.00"))
    assert not batch.detailed and batch.batch_count == 2
    (tx,) = batch.transactions
    assert tx.end_to_end_id is None and tx.payment_info_id == batch.batch_payment_info_id


def test_a_camt053_of_version_04_with_pending_fee_and_batch_entries():
    parsed = parse(fixture("camt.053.001.04.xml"))
    assert (parsed.kind, parsed.version, parsed.message_id) == (
        "camt.053",
        "camt.053.001.04",
        "STMT20261204-000338",
    )
    assert parsed.account_ibans == [ACCOUNT]  # printed with spaces in the file
    transfer, fee, pending, batch = parsed.entries
    assert transfer.booked_on == DAY  # from a BookgDt/DtTm
    (tx,) = transfer.transactions
    assert tx.end_to_end_id is None  # NOTPROVIDED
    assert (tx.reference, tx.counterparty_name) == ("084261366074", "Bakkerij Janssens BV")
    assert not fee.credit and fee.transactions[0].amount == Decimal("3.25")
    assert pending.status == "PDNG" and not pending.booked
    assert batch.batch_payment_info_id == "PMTINF-RCUR-1"
    assert [(t.end_to_end_id, t.amount) for t in batch.transactions] == [
        ("E2E-000001", Decimal("121.00")),
        ("E2E-000002", Decimal("245.00")),
    ]


def test_a_camt054_of_version_04_reports_a_refund_as_a_reversal():
    (entry,) = parse(fixture("camt.054.001.04.xml")).entries
    assert entry.reversal and not entry.credit
    (tx,) = entry.transactions
    assert (tx.end_to_end_id, tx.return_reason, tx.amount) == (
        "E2E-000001",
        "MD06",
        Decimal("121.00"),
    )
    assert tx.counterparty_name == "Debtor One"


def test_pending_entries_are_read_but_not_booked():
    content = bank.notification(
        ACCOUNT, DAY, [bank.Transfer(Decimal("10.00"), pending=True)], version="camt.054.001.08"
    )
    (entry,) = parse(content).entries
    assert entry.status == "PDNG" and not entry.booked


# -- pain.002 ------------------------------------------------------------------------------


def test_a_pain002_of_version_03_names_the_file_and_the_rejects():
    parsed = parse(bank.status_report(pain008(), {"E2E-2": "AM04"}))
    assert isinstance(parsed, StatusReport)
    assert parsed.version == "pain.002.001.03"
    assert parsed.original_message_type == "pain.008.001.02"
    assert parsed.group_status == "PART" and not parsed.rejects_all
    (info,) = parsed.payment_infos
    (tx,) = info.transactions
    assert (tx.end_to_end_id, tx.status, tx.reason_code, tx.amount) == (
        "E2E-2",
        "RJCT",
        "AM04",
        Decimal("242.00"),
    )


def test_a_pain002_rejecting_the_whole_file():
    parsed = parse(bank.status_report(pain008(), {}, reject_all="FF01"))
    assert parsed.rejects_all and parsed.group_reason_code == "FF01"


def test_a_pain002_of_version_10_with_batch_and_transaction_statuses():
    parsed = parse(fixture("pain.002.001.10.xml"))
    assert (parsed.version, parsed.original_message_id) == ("pain.002.001.10", "RUN-MESSAGE-1")
    first, second = parsed.payment_infos
    assert [(t.end_to_end_id, t.status, t.reason_code) for t in first.transactions] == [
        ("E2E-A", "RJCT", "AM04"),
        ("E2E-B", "ACCP", None),
    ]
    assert (second.payment_info_id, second.status, second.reason_code) == (
        "PMTINF-RCUR-1",
        "RJCT",
        "MD01",
    )


# -- refused --------------------------------------------------------------------------------

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&lol9;</Document>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt><GrpHdr><MsgId>&secret;</MsgId></GrpHdr></BkToCstmrStmt>
</Document>
"""


@pytest.mark.parametrize("content", [BOMB, EXTERNAL_ENTITY], ids=["bomb", "external-entity"])
def test_xml_with_a_dtd_or_entities_is_refused_unread(content):
    with pytest.raises(BankFileError, match="DTD or entities.*XML bomb"):
        parse(content)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"  \n", "empty"),
        # Told apart by content since CODA and MT940 are read (detect.py, issue 26).
        (b"%PDF-1.7 not xml", r"it is a PDF document \(a statement to read"),
        (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><Bk', "well-formed"),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.02"/>',
            "not a camt.053, camt.054 or pain.002 file.*camt.052",
        ),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"/>',
            "not a camt.053, camt.054 or pain.002 file",
        ),
        (b"<invoices><invoice/></invoices>", "not a camt.053.*root element is invoices"),
        (b'<?xml version="1.0" encoding="klingon"?><a/>', "encoding that cannot be read"),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
            b"<BkToCstmrDbtCdtNtfctn/></Document>",
            "no BkToCstmrStmt",
        ),
    ],
)
def test_what_is_not_a_bank_file_is_refused_with_the_reason(content, message):
    with pytest.raises(BankFileError, match=message):
        parse(content)


def test_a_file_over_the_size_cap_is_refused_before_parsing():
    with pytest.raises(BankFileError, match="up to 20 MB"):
        parse(b"<Document>" + b" " * MAX_BYTES + b"</Document>")


@pytest.mark.parametrize("amount", [b"ten", b"-10.00", b"1e400", b"NaN"])
def test_a_bad_amount_names_the_entry(amount):
    content = bank.notification(ACCOUNT, DAY, [bank.Transfer(Decimal("10.00"))])
    broken = content.replace(b">10.00<", b">" + amount + b"<", 1)
    with pytest.raises(BankFileError, match=r"is not an amount \(entry 1\)"):
        parse(broken)


# -- references and fingerprints -------------------------------------------------------------


def tx(**values) -> CamtTransaction:
    return CamtTransaction(amount=Decimal("121.00"), currency="EUR", **values)


@pytest.mark.parametrize(
    ("remittance", "found"),
    [
        ("Invoice 2026/1 +++084/2613/66074+++ thanks", ["084261366074"]),
        ("*** 084 / 2613 / 66074 ***", ["084261366074"]),
        ("ref 084/2613/66074", ["084261366074"]),
        ("084261366074", ["084261366074"]),
        ("084261366075", []),  # the check digits do not match
        ("phone 0475123456789", []),  # 13 digits: not a reference
        ("", []),
    ],
)
def test_structured_communications_are_found_in_free_text(remittance, found):
    assert references(tx(remittance=remittance)) == found


def test_the_structured_reference_comes_first():
    found = references(tx(reference="RF18539007547034", remittance="+++084/2613/66074+++"))
    assert found == ["RF18539007547034", "084261366074"]


def entry(transactions, **values) -> CamtEntry:
    base = {
        "amount": Decimal("121.00"),
        "currency": "EUR",
        "credit": True,
        "reversal": False,
        "status": "BOOK",
        "booked_on": DAY,
        "value_date": DAY,
        "bank_reference": "REF-1",
        "bank_code": "PMNT/RCDT/ESCT",
        "batch_payment_info_id": None,
        "batch_count": None,
        "transactions": tuple(transactions),
        "detailed": True,
    }
    return CamtEntry(**{**base, **values})


def test_a_transfer_fingerprint_ignores_what_the_bank_assigns_per_report():
    one = tx(reference="084261366074", counterparty_iban="BE71096123456769", bank_reference="A")
    same = tx(reference="084 2613 66074", counterparty_iban="BE71096123456769", bank_reference="B")
    assert transfer_fingerprint(entry([one]), one) == transfer_fingerprint(
        entry([same], bank_reference="REF-2"), same
    )
    other = tx(reference="084261366074", counterparty_iban="BE43068999999501")
    assert transfer_fingerprint(entry([one]), one) != transfer_fingerprint(entry([other]), other)
