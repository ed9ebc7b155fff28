"""The pain.008 builder: files that validate against the ISO schema on their own, exact
amounts, one batch per sequence type and day, identifiers in the SEPA character set."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sepaxml
import xmlschema
from defusedxml import ElementTree

from collector.direct_debit.files import pain008
from collector.direct_debit.files.pain008 import CreditorAccount, Debit, SepaFileError

SCHEMAS = Path(sepaxml.__file__).parent / "schemas"
CREDITOR = CreditorAccount(
    name="Acme NV", iban="BE71 0961 2345 6769", bic="GKCCBEBB", identifier="BE69ZZZ050D000000008"
)
FIRST = Debit(
    end_to_end_id="DD-1-1",
    amount=Decimal("121.00"),
    sequence_type="FRST",
    collection_date=date(2026, 12, 1),
    mandate_reference="MANDATE-0001",
    mandate_signed_on=date(2025, 1, 15),
    debtor_name="Dupont & Fils",
    iban="BE68539007547034",
    bic=None,
    remittance="2026 / 5 +++084/2613/66074+++",
)
SECOND = replace(
    FIRST,
    end_to_end_id="DD-1-2",
    amount=Decimal("0.10"),
    sequence_type="RCUR",
    mandate_reference="MANDATE-0002",
    debtor_name="Ørsted Åsa",
    iban="NL91 ABNA 0417 1643 00",
    bic="ABNANL2A",
)
LATER = replace(FIRST, end_to_end_id="DD-1-3", collection_date=date(2026, 12, 2))


def parse(content: bytes, version: str = "pain.008.001.02"):
    ns = {"p": f"urn:iso:std:iso:20022:tech:xsd:{version}"}
    return ElementTree.fromstring(content), ns


@pytest.mark.parametrize("version", pain008.VERSIONS)
def test_the_file_validates_against_the_iso_schema(version):
    pain = pain008.build(CREDITOR, [FIRST, SECOND, LATER], version=version)

    # Checked here with the schema file itself, not through sepaxml's own check.
    schema = xmlschema.XMLSchema(SCHEMAS / f"{version}.xsd")
    schema.validate(pain.content.decode())
    root, ns = parse(pain.content, version)
    assert root.findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:MsgId", namespaces=ns) == pain.message_id
    assert root.findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:NbOfTxs", namespaces=ns) == "3"
    assert root.findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:CtrlSum", namespaces=ns) == "242.10"


def test_one_batch_per_sequence_type_and_day_and_each_debit_knows_its_batch():
    pain = pain008.build(CREDITOR, [FIRST, SECOND, LATER])
    root, ns = parse(pain.content)

    batches = {}
    for batch in root.iterfind("p:CstmrDrctDbtInitn/p:PmtInf", ns):
        key = (
            batch.findtext("p:PmtTpInf/p:SeqTp", namespaces=ns),
            batch.findtext("p:ReqdColltnDt", namespaces=ns),
        )
        ids = [e.text for e in batch.iterfind("p:DrctDbtTxInf/p:PmtId/p:EndToEndId", ns)]
        batches[key] = (batch.findtext("p:PmtInfId", namespaces=ns), ids)
    assert {key: ids for key, (_, ids) in batches.items()} == {
        ("FRST", "2026-12-01"): ["DD-1-1"],
        ("RCUR", "2026-12-01"): ["DD-1-2"],
        ("FRST", "2026-12-02"): ["DD-1-3"],
    }
    assert pain.payment_info_ids == {ids[0]: batch_id for batch_id, ids in batches.values()}
    assert len(set(pain.payment_info_ids.values())) == 3


def test_the_debit_carries_the_mandate_the_account_and_the_remittance():
    pain = pain008.build(CREDITOR, [FIRST, SECOND], scheme="B2B")
    root, ns = parse(pain.content)
    first, second = root.iterfind("p:CstmrDrctDbtInitn/p:PmtInf/p:DrctDbtTxInf", ns)

    assert first.findtext("p:DrctDbtTx/p:MndtRltdInf/p:MndtId", namespaces=ns) == "MANDATE-0001"
    assert first.findtext("p:DrctDbtTx/p:MndtRltdInf/p:DtOfSgntr", namespaces=ns) == "2025-01-15"
    assert first.findtext("p:InstdAmt", namespaces=ns) == "121.00"
    assert first.find("p:InstdAmt", ns).get("Ccy") == "EUR"
    assert first.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=ns) == "BE68539007547034"
    assert first.findtext("p:RmtInf/p:Ustrd", namespaces=ns) == "2026 / 5 +++084/2613/66074+++"
    # Names are transliterated into the SEPA set: "&" has no place in it.
    assert first.findtext("p:Dbtr/p:Nm", namespaces=ns) == "Dupont + Fils"
    assert second.findtext("p:Dbtr/p:Nm", namespaces=ns) == "Orsted Asa"
    assert second.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=ns) == "NL91ABNA0417164300"
    assert second.findtext("p:DbtrAgt/p:FinInstnId/p:BIC", namespaces=ns) == "ABNANL2A"
    assert second.findtext("p:InstdAmt", namespaces=ns) == "0.10"
    instruments = {e.findtext("p:Cd", namespaces=ns) for e in root.iterfind(".//p:LclInstrm", ns)}
    assert instruments == {"B2B"}


@pytest.mark.parametrize(
    ("amount", "cents"),
    [("0.01", 1), ("0.10", 10), ("121.00", 12100), ("1234567.89", 123456789), ("5", 500)],
)
def test_amounts_go_in_as_exact_cents(amount, cents):
    assert pain008.cents(Decimal(amount)) == cents


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-1.00"), Decimal("1.005"), 1.5, 100])
def test_what_is_not_a_collectable_amount_is_refused(amount):
    with pytest.raises(SepaFileError):
        pain008.cents(amount)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"end_to_end_id": "DD 1/"}, "end-to-end id"),
        ({"end_to_end_id": "X" * 36}, "end-to-end id"),
        ({"end_to_end_id": "DD_1"}, "end-to-end id"),
        ({"mandate_reference": "MANDAAT-€1"}, "mandate reference"),
        ({"mandate_reference": "A//B"}, "mandate reference"),
        ({"sequence_type": "NEXT"}, "sequence type"),
        ({"iban": "BE68539007547035"}, "not a valid IBAN"),
        ({"amount": Decimal("12.345")}, "not an amount"),
        ({"debtor_name": "★ #*"}, "nothing a SEPA file can carry"),
    ],
)
def test_a_debit_outside_the_rules_is_refused_before_the_file_is_written(change, message):
    with pytest.raises(SepaFileError, match=message):
        pain008.build(CREDITOR, [replace(FIRST, **change)])


def test_end_to_end_ids_are_unique_in_a_file():
    with pytest.raises(SepaFileError, match="used twice"):
        pain008.build(CREDITOR, [FIRST, replace(SECOND, end_to_end_id=FIRST.end_to_end_id)])


def test_the_2009_format_needs_the_creditors_bic_and_the_2019_one_does_not():
    without_bic = replace(CREDITOR, bic=None)
    with pytest.raises(SepaFileError, match="BIC"):
        pain008.build(without_bic, [FIRST], version="pain.008.001.02")
    pain = pain008.build(without_bic, [FIRST], version="pain.008.001.08")
    xmlschema.XMLSchema(SCHEMAS / "pain.008.001.08.xsd").validate(pain.content.decode())


def test_an_empty_file_or_an_unknown_version_is_refused():
    with pytest.raises(SepaFileError, match="at least one"):
        pain008.build(CREDITOR, [])
    with pytest.raises(SepaFileError, match="sepaxml writes"):
        pain008.build(CREDITOR, [FIRST], version="pain.008.003.02")


@pytest.mark.parametrize(
    ("text", "cleaned"),
    [
        ("Müller & Zoon B.V.", "Muller + Zoon B.V."),
        ("  Café   de l'Été  ", "Cafe de l'Ete"),
        ("a_b@c.be", "a-b(at)c.be"),
        ("Ligne\nnouvelle", "Ligne nouvelle"),
    ],
)
def test_free_texts_are_transliterated_into_the_sepa_set(text, cleaned):
    assert pain008.sepa_text(text, 70) == cleaned
    assert pain008.is_sepa_text(cleaned)


def test_free_texts_are_cut_to_their_length():
    assert pain008.sepa_text("x" * 200, 140) == "x" * 140
