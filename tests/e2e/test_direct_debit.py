"""Direct debit end to end, through every real part: invoices imported from the Teamleader
sandbox, the customers CSV filled in as finance does and uploaded as mandates, the debit
announced by invitations a real SMTP server receives, a collection run's pain.008 (valid
against the ISO schema), the sandbox bank's camt.054 settling it — documents PAID and the
payments registered in Teamleader — then an MD06 refund taking one back, removed from
Teamleader, and the next run on that mandate RCUR after a new pre-notification."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from collector.accounts import creditor
from collector.core.clock import local_today
from collector.direct_debit import bank_files, collection_runs, mandate_upload
from collector.direct_debit.models import CollectionStatus, Mandate, MandateUploadStatus
from collector.documents import customers, ledger
from collector.documents.models import (
    Customer,
    DocumentKind,
    Invoice,
    InvoiceState,
    PaymentKind,
    PaymentSource,
)
from collector.documents.profiles import create_profile
from collector.extensions import db
from collector.mail import invitations
from collector.mail import jobs as mail_jobs
from collector.runtime import setup as runtime_setup
from collector.teamleader import imports
from collector.teamleader import jobs as teamleader_jobs
from collector.teamleader.models import ImportSource
from sandbox import bank
from tests.support import sepa
from tests.support.sepa import sequence_types

SCHEMA = sepa.schema()
# Valid Belgian test accounts (bpost bank): schwifty derives their BIC.
IBANS = ["BE71 0961 2345 6769", "BE68 5390 0754 7034", "BE62 5100 0754 7061"]


@pytest.fixture
def sandbox_config():
    return {"SEED": 5, "INVOICE_COUNT": 30, "RATE_LIMIT": 100_000}


def filled_customers_csv(wanted: list[Customer], today) -> bytes:
    """The customers export with the mandate columns filled in for ``wanted``, the rest
    left empty (rows the upload skips), saved by a spreadsheet with semicolons."""
    exported = "".join(customers.customers_csv(db.session.scalars(db.select(Customer))))
    rows = list(csv.DictReader(io.StringIO(exported)))
    numbers = {c.customer_number: n for n, c in enumerate(wanted)}
    for row in rows:
        n = numbers.get(row["customerNumber"])
        if n is not None:
            row.update(
                mandateNumber=f"MDT-{n:04d}",
                iban=IBANS[n % len(IBANS)].lower(),
                signDate=(today - timedelta(days=40)).strftime("%d/%m/%Y"),
            )
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=";")
    writer.writeheader()
    writer.writerows(rows)
    return "\ufeff".encode() + out.getvalue().encode()


def upload_mandates(content: bytes, store, today):
    upload = mandate_upload.receive(io.BytesIO(content), "mandates.csv", store, actor="test")
    upload = mandate_upload.check(upload.id, store, today=today)
    assert upload.status == MandateUploadStatus.READY, upload.problems
    return mandate_upload.commit(upload.id, store, today=today, actor="test")


def invite(invoice_ids: list[int], again: bool = False) -> None:
    invitations.request_invitations(invoice_ids, actor="test", again=again)
    mail_jobs.deliver_mail()


def teamleader_amounts(sandbox, invoice: Invoice) -> list:
    return [
        p["payment"]["amount"] for p in sandbox.data.invoices[invoice.teamleader_id]["payments"]
    ]


def test_mandates_to_collection_to_bank_to_teamleader(tl_app, connection, sandbox, smtp_server):
    tl_app.config.update(
        TEAMLEADER_RATE_LIMIT=100_000,
        MAIL_HOST=smtp_server.host,
        MAIL_PORT=smtp_server.port,
        MAIL_SECURITY="none",
        MAIL_FROM="billing@collector.example",
        PUBLIC_BASE_URL="https://pay.collector.example",
    )
    creditor.update("Acme NV", "BE71 0961 2345 6769", "GKCCBEBB", "BE69ZZZ050D000000008")
    profile = create_profile({"name": "Direct debit", "allow_direct_debit": True})
    connection.default_profile_id = profile.id
    connection.strict_mode_confirmed = True
    connection.payment_method_id = connection.payment_methods[0]["id"]
    db.session.commit()
    today = local_today()
    imp = imports.create_import(
        ImportSource.CLI, date_from=today - timedelta(days=30), date_to=today
    )
    teamleader_jobs.run_import(imp.id)
    owed = db.session.scalars(
        db.select(Invoice)
        .where(Invoice.kind == DocumentKind.INVOICE, Invoice.amount_due > 0)
        .where(Invoice.state.in_(ledger.OPEN), Invoice.profile_id == profile.id)
        .order_by(Invoice.id)
    ).all()
    owed = [i for i in owed if i.customer.email][:4]
    assert len(owed) >= 2, "the sandbox seed should give open invoices with an email address"
    store = runtime_setup.document_store(tl_app)

    # Mandates: the customers CSV, filled in, uploaded; the same file again adds nothing.
    signed = sorted({i.customer for i in owed}, key=lambda c: c.id)
    content = filled_customers_csv(signed, today)
    assert upload_mandates(content, store, today).created_count == len(signed)
    assert upload_mandates(content, store, today).created_count == 0
    assert db.session.scalar(db.select(db.func.count(Mandate.id))) == len(signed)

    # The invitations announce the debit (SEPA pre-notification).
    invite([i.id for i in owed])
    bodies = [m.get_body(("plain",)).get_content() for m in smtp_server.messages]
    assert len(bodies) == len(owed) and all("BE69ZZZ050D000000008" in b for b in bodies)

    # The run: every document FRST, a schema-valid file, documents PENDING.
    until = today + timedelta(days=90)
    run = collection_runs.create_run(store, today, until, "CORE", "test")
    pain008 = collection_runs.file(run, store)
    SCHEMA.validate(pain008.decode())
    assert set(sequence_types(pain008).values()) == {"FRST"} and run.count == len(owed)
    assert {db.session.get(Invoice, i.id).state for i in owed} == {InvoiceState.PENDING}
    collection_runs.mark_sent(run, "test")

    # The bank settles it: PAID here, the payments in Teamleader.
    amounts = {i.id: i.amount_due for i in owed}
    before = {i.id: teamleader_amounts(sandbox, i) for i in owed}  # partly paid there already
    bank_files.upload(store, "settled.xml", bank.settle(pain008, today), "test", today)
    teamleader_jobs.push_teamleader()
    for invoice in owed:
        db.session.refresh(invoice)
        assert invoice.state == InvoiceState.PAID
        assert teamleader_amounts(sandbox, invoice) == [*before[invoice.id], amounts[invoice.id]]

    # An MD06 refund of the first: open again here, its payment gone from Teamleader.
    refunded = owed[0]
    [collection] = run.collections[:1]
    assert collection.invoice_id == refunded.id
    refund = bank.returns(pain008, {collection.end_to_end_id: "MD06"}, today)
    bank_files.upload(store, "refund.xml", refund, "test", today)
    teamleader_jobs.push_teamleader()
    db.session.refresh(refunded)
    assert refunded.state in ledger.OPEN and refunded.amount_due == amounts[refunded.id]
    ours = [p for p in refunded.payments if p.source == PaymentSource.BANK]
    assert [(p.kind, p.reason_code) for p in ours] == [
        (PaymentKind.PAYMENT, None),
        (PaymentKind.REFUND, "MD06"),
    ]
    assert teamleader_amounts(sandbox, refunded) == before[refunded.id]
    assert all(amounts[i.id] in teamleader_amounts(sandbox, i) for i in owed[1:])
    db.session.refresh(collection)
    assert collection.status == CollectionStatus.RETURNED

    # Not collected again on the old announcement; a new invitation makes it RCUR.
    assert refunded.id not in {
        c.invoice_id for c in collection_runs.preview(today, until, "CORE").candidates
    }
    invite([refunded.id], again=True)
    second = collection_runs.create_run(store, today, until, "CORE", "test")
    content = collection_runs.file(second, store)
    SCHEMA.validate(content.decode())
    assert sequence_types(content) == {f"DD-{second.id}-{refunded.id}": "RCUR"}
