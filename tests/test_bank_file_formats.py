"""The bank formats side by side: the camt.053, CODA and MT940 forms of one day's
statement, uploaded into the same starting state, do the same to collections, documents
and the unmatched list; and an upload's kind is told by its content, never its name."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from collector.core.storage import FolderStore
from collector.direct_debit import bank_files, bank_transactions
from collector.direct_debit.models import (
    BankFile,
    BankFileKind,
    BankTransaction,
    BankTransactionKind,
    Collection,
)
from collector.documents.models import Invoice, InvoiceEvent, InvoiceState, Payment
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from collector.teamleader.models import TeamleaderSync
from tests.conftest import empty_tables
from tests.support.bank import make_creditor
from tests.support.factories import make_collection, make_invoice, make_mandate

FIXTURES = Path(__file__).parent / "fixtures" / "bank"
# One day's statement in three formats (tests/fixtures/bank/statement-2026-12-03.*).
FORMS = {
    "camt.053": "statement-2026-12-03.camt053.xml",
    "CODA": "statement-2026-12-03.coda",
    "MT940": "statement-2026-12-03.mt940",
}
BOOKED_ON = date(2026, 12, 3)
LISTED = "camt.053 and camt.054 (ISO 20022, version .001.02 and later); pain.002 (ISO 20022); "
LISTED += "CODA version 2 (Febelfin); MT940 (SWIFT)."


def content(form: str) -> bytes:
    return (FIXTURES / FORMS[form]).read_bytes()


def upload(store, data: bytes, name: str) -> BankFile:
    return bank_files.upload(store, name, data, "admin@example.com", BOOKED_ON)


def prepare() -> None:
    """What the statement speaks of: a run of two collections (PmtInfId PMTINF-RCUR-1)
    and two open invoices whose structured references its transfers carry."""
    make_creditor()
    first = _collection("E2E-000101", Decimal("121.00"))
    _collection("E2E-000102", Decimal("245.00"), run=first.run)
    make_invoice(number="2026 / 4", payment_reference="+++084/2613/66074+++")
    make_invoice(number="2026 / 5", payment_reference="+++090/9337/55493+++")


def _collection(end_to_end_id: str, amount: Decimal, **run) -> Collection:
    mandate = make_mandate(reference=end_to_end_id.replace("E2E", "MANDATE"))
    invoice = make_invoice(
        number=f"2026 / {end_to_end_id[-3:]}",
        customer=mandate.customer,
        profile=mandate.profile,
        state=InvoiceState.PENDING,
        total_incl_vat=amount,
        amount_due=amount,
    )
    return make_collection(
        mandate=mandate,
        invoice=invoice,
        amount=amount,
        end_to_end_id=end_to_end_id,
        payment_info_id="PMTINF-RCUR-1",
        **run,
    )


def outcome(bank_file: BankFile) -> dict:
    """What a statement did, in terms that do not depend on row ids or the file's shape:
    its counts, every collection and document, every payment and every bank
    transaction's result (the unmatched ones with the note a person reads)."""
    numbers = dict(db.session.execute(sa.select(Invoice.id, Invoice.number)).all())
    collections = db.session.scalars(sa.select(Collection).order_by(Collection.end_to_end_id))
    invoices = db.session.scalars(sa.select(Invoice).order_by(Invoice.number))
    payments = db.session.scalars(sa.select(Payment))
    rows = db.session.scalars(sa.select(BankTransaction))
    return {
        "account": bank_file.account_iban,
        "summary": {k: v for k, v in bank_file.summary.items() if k != "run_id"},
        "collections": {c.end_to_end_id: (c.status.value, c.reason_code) for c in collections},
        "invoices": {i.number: (i.state.value, i.amount_due) for i in invoices},
        "payments": sorted(
            (numbers[p.invoice_id], p.kind.value, p.amount, p.reason_code, p.reference)
            for p in payments
        ),
        "transactions": sorted(_result(row, numbers) for row in rows),
        "unmatched": sorted((t.amount, t.note) for t in bank_transactions.unmatched()),
    }


def _result(row: BankTransaction, numbers: dict) -> tuple:
    common = (row.kind.value, row.status.value, row.amount, row.currency, row.booked_on)
    if row.kind == BankTransactionKind.TRANSFER:
        # A transfer's own facts are part of what a person sees and what it matched by.
        facts = (row.reference, row.counterparty_iban, row.counterparty_name, row.bank_reference)
    else:
        # A collection's row is named by its end-to-end id; a batch credited as one total
        # (MT940) does not name each debtor, so the debtor is no part of the outcome.
        facts = (row.key, row.end_to_end_id, row.reason_code)
    return (*common, *facts, numbers.get(row.invoice_id), row.payment_id is not None, row.note)


@pytest.fixture
def store(tmp_path):
    return FolderStore(tmp_path / "bank-files")


def test_camt053_coda_and_mt940_of_one_day_do_the_same(app, store):
    outcomes = {}
    for form in FORMS:
        empty_tables()
        prepare()
        outcomes[form] = outcome(upload(store, content(form), f"download-{form}.dat"))

    camt = outcomes["camt.053"]
    # What the camt.053 does, so three equally broken outcomes cannot pass as equal.
    assert camt["summary"] == {
        "settled": 2,
        "rejected": 0,
        "returned": 1,
        "matched": 2,
        "unmatched": 1,
        "known": 0,
        "skipped": 1,
    }
    assert camt["collections"] == {
        "E2E-000101": ("settled", None),
        "E2E-000102": ("returned", "AM04"),
    }
    assert camt["invoices"]["2026 / 4"] == ("PAID", Decimal("0.00"))
    assert camt["invoices"]["2026 / 5"] == ("BOOKED", Decimal("100.00"))
    assert camt["invoices"]["2026 / 101"][0] == "PAID"
    assert camt["invoices"]["2026 / 102"][0] in ("BOOKED", "EXPIRED")
    assert camt["unmatched"] == [(Decimal("7.00"), "The transfer carries no structured reference.")]
    assert outcomes["CODA"] == camt
    assert outcomes["MT940"] == camt


def test_the_same_statement_in_another_format_adds_nothing(app, store):
    """A bank that delivers the day as CODA and as camt.053 (or MT940) too: the second
    and third find every settlement, return and transfer known, and change nothing."""
    prepare()
    first = upload(store, content("CODA"), "day.cod")
    assert first.summary["known"] == 0
    before = outcome(first)
    for form in ("camt.053", "MT940"):
        again = upload(store, content(form), f"day-{form}")
        assert again.summary == {**first.summary, **NOTHING_NEW}, form
        assert {k: v for k, v in outcome(again).items() if k != "summary"} == {
            k: v for k, v in before.items() if k != "summary"
        }


# Six facts known (two settlements, the return, three transfers), the fee skipped.
NOTHING_NEW = {"settled": 0, "returned": 0, "matched": 0, "unmatched": 0, "known": 6}


# -- told by content ---------------------------------------------------------------------------


@pytest.mark.parametrize("form", FORMS)
def test_the_format_is_told_by_the_content_not_the_name(app, store, form):
    prepare()
    misleading = {"camt.053": "statement.cod", "CODA": "statement.xml", "MT940": "camt053.xml"}
    done = upload(store, content(form), misleading[form])
    assert done.filename == misleading[form]
    assert done.kind == BankFileKind(form)  # the list and the file's page say which
    assert (done.summary["settled"], done.summary["returned"]) == (2, 1)


@pytest.mark.parametrize(
    ("form", "mimetype"), [("CODA", "text/plain"), ("camt.053", "application/xml")]
)
def test_a_stored_file_downloads_as_what_it_is(app, admin_client, form, mimetype):
    prepare()
    store = runtime_setup.document_store(app)
    done = upload(store, content(form), FORMS[form])
    download = admin_client.get(f"/bank-files/{done.id}/download")
    assert download.status_code == 200 and download.data == content(form)
    assert download.mimetype == mimetype


def rows() -> dict[str, int]:
    models = (BankFile, BankTransaction, Payment, InvoiceEvent, TeamleaderSync)
    return {
        m.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in models
    }


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF document"),
        (b"PK\x03\x04\x14\x00\x06\x00", "a ZIP archive or an Excel workbook"),
        (b"Datum;Bedrag;Naam\n03-12-2026;121,00;Janssens\n", "a CSV or spreadsheet export"),
        (
            b":20:X\r\n:25:NL91ABNA0417164300\r\n:28C:1\r\n:34F:EUR0,\r\n:13D:2612031200+0100\r\n"
            b":61:2612031203C121,00NTRFNONREF//1\r\n:86:/EREF/E2E-000101/\r\n",
            "an MT942 interim report",
        ),
        (b"OFXHEADER:100\nDATA:OFXSGML\n", "an OFX"),
        (b"just some notes\nabout money\n", "text in no bank format we know"),
    ],
    ids=["pdf", "zip", "csv", "mt942", "ofx", "text"],
)
def test_a_file_we_do_not_read_is_refused_with_the_formats_we_do(app, store, data, what):
    prepare()
    before = rows()
    with pytest.raises(bank_files.BankFileRefused) as refused:
        upload(store, data, "statement.coda")
    message = str(refused.value)
    assert what in message
    assert message.endswith(f"Bank files read: {LISTED}")
    assert rows() == before
    assert not store.root.exists()  # not even stored


def test_an_xml_file_of_another_kind_names_the_formats_read(app, store):
    prepare()
    with pytest.raises(bank_files.BankFileRefused) as refused:
        upload(store, b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.08"/>', "x")
    assert "camt.052" in str(refused.value) and LISTED in str(refused.value)
