"""The sandbox bank: what it reads from a pain.008 and the camt.054, camt.053 and
pain.002 files it answers with, element by element."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from defusedxml import ElementTree
from sepaxml import SepaDD

from sandbox import bank

ACCOUNT = "BE62510007547061"
DAY = date(2026, 12, 3)


def pain008(schema: str = "pain.008.001.02") -> bytes:
    sepa = SepaDD(
        {
            "name": "Collector Test BV",
            "IBAN": ACCOUNT,
            "BIC": "VAPEBE22",
            "batch": True,
            "creditor_id": "BE69ZZZ050D000000008",
            "currency": "EUR",
        },
        schema=schema,
    )
    for n, kind in enumerate(("FRST", "RCUR", "RCUR"), 1):
        sepa.add_payment(
            {
                "name": f"Debtor {n}",
                "IBAN": "BE68539007547034",
                "BIC": "GKCCBEBB",
                "amount": 10000 * n + 50,
                "type": kind,
                "collection_date": DAY,
                "mandate_id": f"MANDATE-{n}",
                "mandate_date": date(2025, 1, 15),
                "description": f"2026 / {n}",
                "endtoend_id": f"E2E-{n}",
            }
        )
    return sepa.export(validate=True)


class Doc:
    """A bank file with its namespace bound, so paths read like the schema."""

    def __init__(self, content: bytes):
        self.root = ElementTree.fromstring(content)
        self.ns = {"x": self.root.tag[1:].split("}")[0]}

    @property
    def namespace(self) -> str:
        return self.ns["x"]

    def all(self, path: str, under=None):
        return (under if under is not None else self.root).findall(self._q(path), self.ns)

    def text(self, path: str, under=None) -> str | None:
        return (under if under is not None else self.root).findtext(self._q(path), None, self.ns)

    @staticmethod
    def _q(path: str) -> str:
        prefix = ".//" if path.startswith("//") else ""
        return prefix + "/".join(f"x:{p}" for p in path.lstrip("/").split("/"))


@pytest.mark.parametrize("schema", ["pain.008.001.02", "pain.008.001.08"])
def test_the_bank_reads_the_collections_of_a_pain008(schema):
    sent = bank.read_pain008(pain008(schema))
    assert sent.version == schema and sent.creditor_iban == ACCOUNT
    assert [(d.end_to_end_id, d.amount, d.sequence_type) for d in sent.debits] == [
        ("E2E-1", Decimal("100.50"), "FRST"),
        ("E2E-2", Decimal("200.50"), "RCUR"),
        ("E2E-3", Decimal("300.50"), "RCUR"),
    ]
    first = sent.debits[0]
    assert (first.mandate_id, first.debtor_iban, first.collection_date, first.scheme) == (
        "MANDATE-1",
        "BE68539007547034",
        DAY,
        "CORE",
    )
    assert [len(b) for b in sent.batches().values()] == [1, 2]


def test_it_refuses_what_is_not_a_pain008():
    with pytest.raises(ValueError, match="not a pain.008"):
        bank.read_pain008(bank.notification(ACCOUNT, DAY))


def test_settling_credits_each_collection_as_a_core_direct_debit():
    doc = Doc(bank.settle(pain008(), date(2026, 12, 4)))
    assert doc.namespace == "urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"
    assert doc.text("//Ntfctn/Acct/Id/IBAN") == ACCOUNT
    entries = doc.all("//Ntry")
    assert [doc.text("Amt", e) for e in entries] == ["100.50", "200.50", "300.50"]
    entry = entries[0]
    assert (doc.text("CdtDbtInd", entry), doc.text("Sts", entry)) == ("CRDT", "BOOK")
    assert doc.text("BookgDt/Dt", entry) == "2026-12-04"
    assert doc.text("ValDt/Dt", entry) == "2026-12-03"  # the requested collection date
    assert doc.text("BkTxCd/Domn/Fmly/SubFmlyCd", entry) == "ESDD"
    assert doc.text("NtryDtls/TxDtls/Refs/EndToEndId", entry) == "E2E-1"
    assert doc.text("NtryDtls/TxDtls/AmtDtls/TxAmt/Amt", entry) == "100.50"
    assert doc.text("NtryDtls/TxDtls/RltdPties/Dbtr/Nm", entry) == "Debtor 1"
    refs = [doc.text("AcctSvcrRef", e) for e in entries]
    assert len(set(refs)) == 3


def test_version_08_uses_its_own_shapes():
    doc = Doc(bank.settle(pain008(), DAY, version="camt.054.001.08"))
    entry = doc.all("//Ntry")[0]
    assert doc.text("Sts/Cd", entry) == "BOOK"
    assert doc.text("NtryDtls/TxDtls/Amt", entry) == "100.50"
    assert doc.text("NtryDtls/TxDtls/RltdPties/Dbtr/Pty/Nm", entry) == "Debtor 1"


def test_a_batch_booking_is_one_entry_per_payment_information():
    content = pain008()
    sent = bank.read_pain008(content)
    doc = Doc(bank.settle(content, DAY, batch=True, details=False))
    entries = doc.all("//Ntry")
    assert [doc.text("Amt", e) for e in entries] == ["100.50", "501.00"]
    assert [doc.text("NtryDtls/Btch/PmtInfId", e) for e in entries] == list(sent.batches())
    assert doc.text("NtryDtls/Btch/NbOfTxs", entries[1]) == "2"
    assert doc.all("//TxDtls") == []
    detailed = Doc(bank.settle(pain008(), DAY, batch=True))
    assert len(detailed.all("//Ntry")) == 2 and len(detailed.all("//TxDtls")) == 3


def test_unpaid_collections_are_credited_then_debited_back_with_the_reason():
    doc = Doc(bank.settle(pain008(), DAY, {"E2E-2": "AM04"}))
    debits = [e for e in doc.all("//Ntry") if doc.text("CdtDbtInd", e) == "DBIT"]
    (debit,) = debits
    assert doc.text("Amt", debit) == "200.50"
    assert doc.text("BkTxCd/Domn/Fmly/SubFmlyCd", debit) == "UPDD"
    assert doc.text("NtryDtls/TxDtls/Refs/EndToEndId", debit) == "E2E-2"
    assert doc.text("NtryDtls/TxDtls/RtrInf/Rsn/Cd", debit) == "AM04"
    assert len(doc.all("//Ntry")) == 4


def test_a_later_return_and_its_refusal_of_unknown_collections():
    doc = Doc(bank.returns(pain008(), {"E2E-3": "MD06"}, date(2027, 1, 10)))
    (entry,) = doc.all("//Ntry")
    assert doc.text("BookgDt/Dt", entry) == "2027-01-10"
    assert doc.text("NtryDtls/TxDtls/RtrInf/Rsn/Cd", entry) == "MD06"
    with pytest.raises(ValueError, match="E2E-9"):
        bank.returns(pain008(), {"E2E-9": "MD06"}, DAY)


def test_a_status_report_rejects_transactions_and_batches():
    content = pain008()
    sent = bank.read_pain008(content)
    doc = Doc(bank.status_report(content, {"E2E-1": "AC04", "E2E-2": "AM04"}))
    assert doc.namespace == "urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"
    assert doc.text("//OrgnlGrpInfAndSts/OrgnlMsgId") == sent.message_id
    assert doc.text("//OrgnlGrpInfAndSts/GrpSts") == "PART"
    first, second = doc.all("//OrgnlPmtInfAndSts")
    assert doc.text("PmtInfSts", first) == "RJCT"  # its only collection
    assert doc.text("PmtInfSts", second) == "PART"
    tx = doc.all("TxInfAndSts", second)[0]
    assert (doc.text("OrgnlEndToEndId", tx), doc.text("StsRsnInf/Rsn/Cd", tx)) == ("E2E-2", "AM04")
    assert doc.text("OrgnlTxRef/Amt/InstdAmt", tx) == "200.50"

    whole = Doc(bank.status_report(pain008(), {}, reject_all="FF01"))
    assert whole.text("//GrpSts") == "RJCT" and whole.text("//StsRsnInf/Rsn/Cd") == "FF01"
    assert whole.all("//OrgnlPmtInfAndSts") == []


def test_a_statement_repeats_notifications_under_its_own_references_and_balances():
    transfers = bank.notification(
        ACCOUNT, DAY, [bank.Transfer(Decimal("121.00"), reference="084261366074")]
    )
    statement = bank.statement(
        ACCOUNT,
        DAY,
        [bank.Transfer(Decimal("10.00"), remittance="thanks")],
        debits=[bank.Debit(Decimal("2.50"))],
        repeat=[transfers],
        opening=Decimal("1000.00"),
    )
    doc = Doc(statement)
    assert doc.namespace == "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"
    balances = {doc.text("Tp/CdOrPrtry/Cd", b): doc.text("Amt", b) for b in doc.all("//Bal")}
    assert balances == {"OPBD": "1000.00", "CLBD": "1128.50"}
    entries = doc.all("//Stmt/Ntry")
    assert [doc.text("Amt", e) for e in entries] == ["121.00", "10.00", "2.50"]
    assert doc.text("NtryDtls/TxDtls/RmtInf/Strd/CdtrRefInf/Ref", entries[0]) == "084261366074"
    original = Doc(transfers).text("//Ntry/AcctSvcrRef")
    assert doc.text("AcctSvcrRef", entries[0]) != original
    assert bank.statement(ACCOUNT, DAY, repeat=[transfers]) == bank.statement(
        ACCOUNT, DAY, repeat=[transfers]
    )


def test_a_statement_does_not_repeat_another_account_or_version():
    other = bank.notification("BE71096123456769", DAY, [bank.Transfer(Decimal("1.00"))])
    with pytest.raises(ValueError, match="another account"):
        bank.statement(ACCOUNT, DAY, repeat=[other])
    newer = bank.notification(ACCOUNT, DAY, version="camt.054.001.08")
    with pytest.raises(ValueError, match="cannot repeat"):
        bank.statement(ACCOUNT, DAY, repeat=[newer])


def test_pending_transfers_are_reported_pending():
    doc = Doc(bank.notification(ACCOUNT, DAY, [bank.Transfer(Decimal("5.00"), pending=True)]))
    assert doc.text("//Ntry/Sts") == "PDNG"
