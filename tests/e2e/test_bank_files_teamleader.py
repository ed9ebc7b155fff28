"""Issue 7, acceptance 3 end to end: a camt.054 from the sandbox bank settles a direct
debit and Teamleader (its sandbox) gets the payment; a later MD06 refund takes it back
and Teamleader's payment is removed."""

import pytest

from collector.core.clock import local_today
from collector.direct_debit import bank_files
from collector.documents import ledger
from collector.documents.models import InvoiceState
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from collector.teamleader import jobs as teamleader_jobs
from collector.teamleader.models import SyncStatus
from sandbox import bank
from tests.support.bank import make_creditor, pain008_for
from tests.support.factories import make_collection, make_mandate


@pytest.fixture
def sandbox_config():
    return {"SEED": 11, "INVOICE_COUNT": 12, "RATE_LIMIT": 100_000}


def test_a_settled_collection_reaches_teamleader_and_its_refund_removes_it(
    open_invoice, sandbox, tl_app
):
    invoice = open_invoice
    amount = invoice.amount_due
    make_creditor()
    mandate = make_mandate(customer=invoice.customer, profile=invoice.profile)
    ledger.start_collection(invoice, "Collected by direct debit.", actor="test")
    collection = make_collection(invoice=invoice, mandate=mandate, amount=amount)
    pain008 = pain008_for(collection.run)
    store = runtime_setup.document_store(tl_app)
    today = local_today()  # the sandbox Teamleader keeps real time

    bank_files.upload(store, "settled.xml", bank.settle(pain008, today), "test", today)
    assert invoice.state == InvoiceState.PAID
    teamleader_jobs.push_teamleader()
    payments = sandbox.data.invoices[invoice.teamleader_id]["payments"]
    assert [p["payment"]["amount"] for p in payments] == [amount]

    refund = bank.returns(pain008, {collection.end_to_end_id: "MD06"}, today)
    bank_files.upload(store, "refund.xml", refund, "test", today)
    db.session.refresh(invoice)
    assert invoice.state in ledger.OPEN
    teamleader_jobs.push_teamleader()
    assert sandbox.data.invoices[invoice.teamleader_id]["payments"] == []
    assert sandbox.calls().get("invoices.removePayments") == 1
    db.session.refresh(invoice.teamleader_sync)
    assert invoice.teamleader_sync.status == SyncStatus.SYNCED
