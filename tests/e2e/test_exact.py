"""Exact Online end to end: Teamleader sandbox → import → PDFs → Exact sandbox.

Issue 8's acceptance 1 and 2: every document one sales entry in the right journal, lines
matching Teamleader's, credit notes negative, PDFs attached; a rerun adds nothing; a process
killed between Exact's answer and our commit books nothing twice; an unmapped VAT rate is
skipped with its reason and booked once mapped.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from collector.core.clock import local_today
from collector.documents.models import DocumentKind, Invoice
from collector.exact import forwarding, settings
from collector.exact import jobs as exact_jobs
from collector.exact import setup as exact_setup
from collector.exact.models import (
    BookingStatus,
    ExactAccount,
    ExactBooking,
    ExactConnection,
    ExactSyncRun,
)
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from collector.teamleader import imports
from collector.teamleader import jobs as teamleader_jobs
from collector.teamleader import setup as teamleader_setup
from collector.teamleader.models import ImportSource
from tests.e2e.conftest import Sandbox, serve
from tests.support import exact as support

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sandbox_config():
    """Enough Teamleader documents that the last 30 days hold credit notes too."""
    return {"SEED": 1, "INVOICE_COUNT": 60}


@pytest.fixture
def exact_sandbox():
    from sandbox import exact

    app = exact.create_app({"SEED": 3, "MINUTE_WINDOW": support.MINUTE_WINDOW})
    server, thread = serve(app)
    yield Sandbox(f"http://127.0.0.1:{server.server_port}", app)
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def imported(tl_app, connection, sandbox, belgian):
    """30 days of documents imported from the Teamleader sandbox, with their PDFs (of the
    Belgian department: the other one is not forwarded)."""
    tl_app.config.update(TEAMLEADER_RATE_LIMIT=100_000)
    today = local_today()
    imp = imports.create_import(
        ImportSource.CLI, date_from=today - timedelta(days=30), date_to=today
    )
    teamleader_jobs.run_import(imp.id)
    teamleader_jobs.fetch_scheduled_pdfs()
    documents = list(db.session.scalars(db.select(Invoice).order_by(Invoice.id)))
    assert documents and all(d.pdf_key for d in documents)
    assert {d.department_id for d in documents} == {belgian, *{d.department_id for d in documents}}
    assert len({d.department_id for d in documents}) == 2, "both departments have documents"
    documents = [d for d in documents if d.department_id == belgian]
    assert any(d.kind == DocumentKind.CREDIT_NOTE for d in documents), "the seed has credit notes"
    return documents


@pytest.fixture
def exact_app(tl_app, exact_sandbox):
    tl_app.config.update(support.exact_config(exact_sandbox.url))
    return tl_app


@pytest.fixture
def belgian(sandbox) -> str:
    """The Belgian department: the one booked in the (Belgian) Exact administration."""
    return next(d["id"] for d in sandbox.data.departments.values() if d["_country"] == "BE")


@pytest.fixture
def mapped(exact_app, admin, connection, belgian):
    exact = support.connect(exact_app, admin)
    support.choose(exact_app, exact, connection)
    return support.full_mapping(exact, connection, [belgian])


def entries(exact_sandbox) -> list[dict]:
    return exact_sandbox.control("GET", "sales-entries")


def tl_document(sandbox, invoice: Invoice) -> dict:
    data = sandbox.data
    return (data.credit_notes if invoice.is_credit_note else data.invoices)[invoice.teamleader_id]


def test_thirty_days_forwarded_once_each_with_lines_vat_and_pdfs(
    exact_app, sandbox, exact_sandbox, imported, mapped
):
    document_store = runtime_setup.document_store(exact_app)
    summary = exact_jobs.forward_to_exact("manual")
    assert "0 failed" in summary, summary
    booked = {e["YourRef"]: e for e in entries(exact_sandbox)}
    assert len(entries(exact_sandbox)) == len(imported) == len(booked)
    documents = {d["ID"]: d for d in exact_sandbox.control("GET", "documents")}
    for invoice in imported:
        entry = booked[invoice.number]
        journal = mapped.credit_note_journal if invoice.is_credit_note else mapped.invoice_journal
        assert entry["Journal"] == journal
        sign = Decimal(-1) if invoice.is_credit_note else Decimal(1)
        source = tl_document(sandbox, invoice)
        tl_lines = [item for group in source["grouped_lines"] for item in group["line_items"]]
        assert [Decimal(str(line["AmountFC"])) for line in entry["SalesEntryLines"]] == [
            sign * line["total"]["tax_exclusive"]["amount"] for line in tl_lines
        ]
        for line, tl_line in zip(entry["SalesEntryLines"], tl_lines, strict=True):
            rate = settings.rate_key(tl_line["_rate"])
            assert line["VATCode"] == mapped.vat_codes[rate]
        tl_vat = sum(t["tax"]["amount"] for t in source["total"]["taxes"])
        assert (
            sum(Decimal(str(x["VATAmountFC"])) for x in entry["SalesEntryLines"]) == sign * tl_vat
        )
        # The PDF went with it, byte for byte, linked to the entry.
        attached = documents[entry["Document"]]["attachments"]
        assert [a["sha256"] for a in attached] == [
            hashlib.sha256(document_store.get(invoice.pdf_key)).hexdigest()
        ]
        booking = db.session.get(Invoice, invoice.id).exact_booking
        assert booking.status == BookingStatus.BOOKED
        assert booking.entry_id.lower() == entry["EntryID"].lower()
        assert booking.entry_number == entry["EntryNumber"]

    rerun = exact_jobs.forward_to_exact("manual")
    assert rerun.startswith("0 booked"), rerun
    assert len(entries(exact_sandbox)) == len(imported)


def test_killed_between_exacts_answer_and_our_commit_books_nothing_twice(
    exact_app, exact_sandbox, imported, mapped
):
    # A separate process forwards and dies (os._exit) right after Exact answered the
    # fifth sales entry, before recording it: the crash window the journal search covers.
    env = {
        **os.environ,
        "COLLECTOR_TEST_CONFIG": json.dumps(
            {k: v for k, v in exact_app.config.items() if isinstance(v, str | int | float | bool)}
        ),
    }
    script = ROOT / "tests" / "support" / "exact_crash.py"
    finished = subprocess.run(  # noqa: S603 (a fixed script of ours)
        [sys.executable, str(script), "5"], env=env, cwd=ROOT, timeout=120, check=False
    )
    assert finished.returncode == 9
    assert len(entries(exact_sandbox)) == 5
    db.session.expire_all()
    assert (
        db.session.scalar(
            db.select(db.func.count())
            .select_from(ExactBooking)
            .where(ExactBooking.entry_id.is_not(None))
        )
        == 4
    )

    # The dead run's lease runs out; the next run finds the fifth entry instead of posting it.
    # (The dead process kept real time, the test's clock is frozen: go past its lease.)
    dead_lease = db.session.scalar(db.select(ExactConnection.run_lease_until))
    later = dead_lease + timedelta(seconds=1)
    run = _forward(exact_app, clock=lambda: later)
    assert run.found == 1
    refs = Counter(e["YourRef"] for e in entries(exact_sandbox))
    assert set(refs.values()) == {1}
    assert len(refs) == len(imported)


def test_unmapped_vat_rate_is_skipped_with_its_reason_then_booked_once_mapped(
    exact_app, connection, exact_sandbox, imported, mapped
):
    rates = Counter()
    for invoice in imported:
        rates.update(line_rates(exact_app, invoice))
    rare = min(rates, key=rates.get)
    full = _settings_of(mapped)
    vat_codes = dict(mapped.vat_codes)
    del vat_codes[rare]
    settings.save_settings(mapped, _settings_of(mapped, vat_codes=vat_codes), connection)

    run = _forward(exact_app)
    label = settings.rate_label(rare)
    assert run.failed > 0 and run.booked > 0
    assert {e["reason"] for e in run.errors} == {
        f"No Exact VAT code is mapped for Teamleader VAT rate {label}."
    }
    failing = db.session.scalars(
        db.select(ExactBooking).where(ExactBooking.status == BookingStatus.FAILED)
    ).all()
    assert len(failing) == run.failed
    assert len(entries(exact_sandbox)) == run.booked

    settings.save_settings(mapped, full, connection)
    again = _forward(exact_app)
    assert (again.booked, again.failed) == (run.failed, 0)
    assert len(entries(exact_sandbox)) == len(imported)


def line_rates(app, invoice: Invoice) -> set[str]:
    """The VAT rates (as mapping keys) of a document's lines, read from Teamleader."""
    from collector.teamleader.connection import current_connection

    client = teamleader_setup.client(app, current_connection())
    read = client.credit_notes_info if invoice.is_credit_note else client.invoices_info
    info = read(invoice.teamleader_id)
    rates = {t["id"]: t["rate"] for t in _tax_rates()}
    return {rates[item["tax_rate_id"]] for g in info["grouped_lines"] for item in g["line_items"]}


def _tax_rates() -> list[dict]:
    from collector.exact.connection import current_exact

    return current_exact().choices["tax_rates"]


def _settings_of(connection, **overrides) -> dict:
    data = {
        "invoice_journal": connection.invoice_journal,
        "credit_note_journal": connection.credit_note_journal,
        "department_ids": connection.department_ids,
        "vat_codes": dict(connection.vat_codes),
        "gl_accounts": dict(connection.gl_accounts),
        "payment_conditions": connection.payment_conditions,
        "sync_credit_notes": connection.sync_credit_notes,
    }
    return {**data, **overrides}


def _forward(app, **kwargs) -> ExactSyncRun:
    from collector.exact.connection import current_exact
    from collector.exact.models import SyncTrigger
    from collector.teamleader.connection import current_connection

    connection = current_exact()
    return forwarding.forward(
        connection,
        exact_setup.client(app, connection),
        teamleader_setup.client(app, current_connection()),
        runtime_setup.document_store(app),
        trigger=SyncTrigger.MANUAL,
        **kwargs,
    )


# -- calls per document (issue 22) ------------------------------------------------------------

MASTER_DATA = ("financial/Journals", "vat/VATCodes", "financial/GLAccounts")


def by_endpoint(calls: list[dict]) -> Counter:
    return Counter((c["method"], c["path"].split("?")[0].split("/", 5)[-1]) for c in calls)


def test_accounts_are_searched_once_per_batch_and_master_data_never(
    exact_app, exact_sandbox, imported, mapped
):
    exact_sandbox.control("DELETE", "calls")

    run = _forward(exact_app)

    documents = len(imported)
    assert (run.booked, run.failed, run.problem) == (documents, 0, None)
    calls = exact_sandbox.control("GET", "calls")
    counted = by_endpoint(calls)
    assert not [c for c in calls if any(m in c["path"] for m in MASTER_DATA)]
    assert counted[("POST", "salesentry/SalesEntries")] == documents
    assert counted[("POST", "documents/Documents")] == documents
    assert counted[("POST", "documents/DocumentAttachments")] == documents
    customers = {i.customer_id for i in imported}
    assert len(customers) > 3, "the seed spreads the documents over customers"
    created = counted[("POST", "crm/Accounts")]
    assert created == db.session.scalar(db.select(db.func.count(ExactAccount.id))) > 0
    # One search per 40 e-mails and VAT spellings of a batch (≤ 6 terms a customer),
    # where one by one it was up to two per customer.
    searches = counted[("GET", "crm/Accounts")]
    assert 1 <= searches <= math.ceil(len(customers) * 6 / 40) < 2 * len(customers)
    assert run.calls == len(calls)
    assert all(
        db.session.get(Invoice, i.id).exact_booking.status == BookingStatus.BOOKED for i in imported
    )


def test_a_search_that_fails_is_searched_again_and_creates_no_twin(
    exact_app, exact_sandbox, imported, mapped
):
    # The batch's account search is refused once (a 400 is not retried): the document
    # that asked fails; the next one searches again.
    spec = {"method": "GET", "path_contains": "crm/Accounts", "status": 400, "count": 1}
    exact_sandbox.control("POST", "faults", json=spec)

    first = _forward(exact_app)

    assert (first.booked, first.failed, first.problem) == (len(imported) - 1, 1, None)
    second = _forward(exact_app)
    assert (second.booked, second.failed, second.problem) == (1, 0, None)
    calls = exact_sandbox.control("GET", "calls")
    created = [c for c in calls if c["method"] == "POST" and "crm/Accounts" in c["path"]]
    links = list(db.session.scalars(db.select(ExactAccount)))
    assert len({link.customer_id for link in links}) == len(links)
    assert len({link.account_id for link in links}) == len(links)  # one account each
    assert len(created) == sum(link.matched_by == "created" for link in links)
