"""Exact Online end to end, the parts a person and the schedule drive: connecting and mapping
through the real pages, payments read back, a document Exact keeps refusing, an outage, and
forwarding started by events.

Teamleader sandbox → import → PDFs → Exact sandbox, as in test_exact.py (its fixtures are
reused); jobs the pages start go through rq on the real Redis and a real worker.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from rq import Queue, SimpleWorker

from collector.accounts import digest
from collector.accounts import jobs as accounts_jobs
from collector.core.clock import local_today
from collector.documents import ledger
from collector.documents.models import DocumentKind, Invoice, InvoiceState, Payment, PaymentSource
from collector.exact import entries as exact_entries
from collector.exact import jobs as exact_jobs
from collector.exact import setup as exact_setup
from collector.exact.models import (
    BookingStatus,
    ExactBooking,
    ExactConnection,
    ExactSyncRun,
    SyncTrigger,
)
from collector.extensions import db
from collector.mail.models import MailMessage
from collector.runtime import operator_alerts
from collector.runtime.models import JobRun, JobStatus, OperatorAlert
from collector.runtime.queue import QUEUES, bind_job_class
from collector.teamleader import imports
from collector.teamleader import jobs as teamleader_jobs
from collector.teamleader import setup as teamleader_setup
from collector.teamleader.connection import current_connection
from collector.teamleader.models import ConnectionStatus, ImportSource, TeamleaderSync
from sandbox.exact.consent import authorization_code
from tests.conftest import csrf_token
from tests.e2e import test_exact as forwarding_tests
from tests.support import exact as support

# The fixtures of test_exact.py: its Teamleader seed, both sandboxes, the imported documents.
sandbox_config = forwarding_tests.sandbox_config
exact_sandbox = forwarding_tests.exact_sandbox
exact_app = forwarding_tests.exact_app
belgian = forwarding_tests.belgian
imported = forwarding_tests.imported

PAGE = "/integrations/exact"
SALES_ENTRIES = "salesentry/SalesEntries"


# -- helpers ---------------------------------------------------------------------------------


def drain(app, redis_conn) -> None:
    """Run every queued job in a real rq worker, as ``make worker`` would."""
    SimpleWorker(QUEUES, connection=redis_conn, job_class=bind_job_class(app)).work(burst=True)


def post(client, path: str, data: dict | None = None, **kwargs):
    """Post a form of the Exact page with its CSRF token, as the browser would."""
    token = csrf_token(client, PAGE)
    return client.post(PAGE + path, data={**(data or {}), "csrf_token": token}, **kwargs)


def text(response) -> str:
    return response.get_data(as_text=True)


def options(page: str, name: str) -> list[str]:
    """The values a ``<select name=name>`` offers."""
    match = re.search(rf'<select[^>]*name="{re.escape(name)}"[^>]*>(.*?)</select>', page, re.S)
    assert match, f"no select {name} on the page"
    return [html.unescape(v) for v in re.findall(r'<option[^>]*value="([^"]*)"', match.group(1))]


def field_names(page: str, prefix: str) -> list[str]:
    return [html.unescape(n) for n in re.findall(rf'name="({re.escape(prefix)}[^"]+)"', page)]


def entries(exact_sandbox) -> list[dict]:
    return exact_sandbox.control("GET", "sales-entries")


def fault(exact_sandbox, **spec) -> None:
    exact_sandbox.control("POST", "faults", json=spec)


def division_table(exact_sandbox, division: int, path: str) -> list[dict]:
    """Ground truth: a table of the sandbox's administration, read directly."""
    store = exact_sandbox.app.extensions["exact_emulator"].store
    with store.lock:
        return [dict(r) for r in store.divisions[division].table(path).values()]


def last_run() -> ExactSyncRun:
    db.session.expire_all()
    return db.session.scalars(
        db.select(ExactSyncRun).order_by(ExactSyncRun.started_at.desc(), ExactSyncRun.id.desc())
    ).first()


def booking_of(invoice: Invoice) -> ExactBooking:
    db.session.expire_all()
    return db.session.get(Invoice, invoice.id).exact_booking


def forward_jobs() -> list[JobRun]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            db.select(JobRun).where(JobRun.name == "forward_to_exact").order_by(JobRun.id)
        )
    )


def refs(exact_sandbox) -> Counter:
    return Counter(e["YourRef"] for e in entries(exact_sandbox))


def settle_mapping(app, admin, connection, belgian, **options) -> ExactConnection:
    """Connect Exact, choose the administration, map the Belgian department's rates."""
    exact = support.connect(app, admin)
    support.choose(app, exact, connection)
    return support.full_mapping(exact, connection, [belgian], **options)


# -- 1. connect, choose, map, run: through the pages -----------------------------------------


def test_connect_map_and_run_through_the_pages(
    exact_app, exact_sandbox, sandbox, connection, belgian, imported, admin_client, redis_conn
):
    # Connect: our page sends the browser to the Belgian host's authorize page.
    response = post(admin_client, "/connect", {"country": "be"})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(f"{exact_sandbox.url}/be/api/oauth2/auth?")
    state = parse_qs(urlsplit(location).query)["state"][0]
    code = authorization_code(location)  # "Authorize" pressed on the sandbox's page
    assert code
    response = admin_client.get(
        f"{PAGE}/callback", query_string={"code": code, "state": state}, follow_redirects=True
    )
    assert "Connected to Exact Online (Belgium)" in text(response)
    exact = db.session.scalars(db.select(ExactConnection)).one()
    assert exact.status == ConnectionStatus.CONNECTED and exact.country == "be"
    assert not exact.forwarding

    # The administration: one of those Exact lists for this user.
    page = text(admin_client.get(PAGE))
    offered = options(page, "division")
    emulator = exact_sandbox.app.extensions["exact_emulator"]
    assert {int(v) for v in offered} == set(emulator.store.divisions)
    division = int(offered[0])
    response = post(admin_client, "/division", {"division": str(division)}, follow_redirects=True)
    assert "chosen; its lists were read" in text(response)

    # The settings offer what the administration holds, filtered as the form promises.
    page = text(admin_client.get(PAGE))
    journals = division_table(exact_sandbox, division, "financial/Journals")
    sales = sorted(j["Code"] for j in journals if j["Type"] == 20 and not j["IsBlocked"])
    returns = [j["Code"] for j in journals if j["Type"] == 21 and not j["IsBlocked"]]
    assert options(page, "invoice_journal")[1:] == sales
    assert any(j["Type"] == 20 and j["IsBlocked"] for j in journals), "seed has a blocked one"
    vat_codes = division_table(exact_sandbox, division, "vat/VATCodes")
    fitting = {
        v["Code"]
        for v in vat_codes
        if not v["IsBlocked"]
        and v["VATTransactionType"] in ("S", "B")
        and v["Type"] in ("E", "B", "N")
    }
    rates = [n.removeprefix("vat_code__") for n in field_names(page, "vat_code__")]
    assert rates, "Teamleader's VAT rates are rows of the mapping"
    for rate in rates:
        assert set(options(page, f"vat_code__{rate}")[1:]) == fitting
    assert len(fitting) < len(vat_codes), "inclusive, purchase and blocked codes are left out"
    revenue = {
        str(g["ID"]).lower()
        for g in division_table(exact_sandbox, division, "financial/GLAccounts")
        if g["Type"] == 110 and not g["IsBlocked"]
    }
    gl_offered = options(page, f"gl_account__{rates[0]}")[1:]
    assert {g.lower() for g in gl_offered} == revenue
    assert f'value="{belgian}"' in page

    # Map each rate to the exclusive sales code of its percentage, as finance would.
    db.session.expire_all()
    belgian_rates = {
        t["rate"]
        for t in db.session.get(ExactConnection, exact.id).choices["tax_rates"]
        if t["department_id"] == belgian
    }
    data = {
        "invoice_journal": sales[0],
        "credit_note_journal": returns[0],
        "department_ids": [belgian],
        "sync_credit_notes": "y",
        "read_payments": "y",
        "entry_numbers": "exact",
        "alert_after": "3",
    }
    by_percentage = {
        Decimal(v["Percentage"]): v["Code"]
        for v in vat_codes
        if v["Code"] in fitting and v["Type"] == "E"
    }
    for index, rate in enumerate(rates):
        code_for = by_percentage.get(Decimal(rate))
        if rate in belgian_rates:
            assert code_for is not None, f"the sandbox has an exclusive code of {rate}"
        if code_for is not None:
            data[f"vat_code__{rate}"] = code_for
            data[f"gl_account__{rate}"] = gl_offered[index % len(gl_offered)]
    response = post(admin_client, "/settings", data, follow_redirects=True)
    assert "Exact Online settings saved" in text(response), text(response)
    db.session.expire_all()
    exact = db.session.get(ExactConnection, exact.id)
    assert exact.forwarding and exact.read_payments and exact.department_ids == [belgian]

    # Run now: a job on rq, run by a real worker.
    response = post(admin_client, "/run", follow_redirects=True)
    assert "Forwarding to Exact Online started" in text(response)
    [job] = forward_jobs()
    assert job.args == ["manual"]
    assert job.job_id in Queue("default", connection=redis_conn).job_ids
    drain(exact_app, redis_conn)
    [job] = forward_jobs()
    assert job.status == JobStatus.FINISHED, job.error
    assert job.message.startswith(f"{len(imported)} booked, 0 found, 0 failed"), job.message
    booked = {e["YourRef"]: e for e in entries(exact_sandbox)}
    assert set(booked) == {d.number for d in imported}

    # The history shows the run and its counts.
    page = text(admin_client.get(PAGE))
    run = last_run()
    row = re.search(rf'<tr data-run="{run.id}">(.*?)</tr>', page, re.S).group(1)
    cells = [c.strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert cells[1:8] == ["manual", str(len(imported)), "0", "0", "0", "0", str(run.calls)]
    assert run.calls > 0 and cells[8] == ""

    # The overview and the detail page show each document's entry number.
    overview = text(admin_client.get("/invoices/", query_string={"per_page": 200}))
    for invoice in imported:
        number = booked[invoice.number]["EntryNumber"]
        assert number
        row = re.search(rf'<tr data-invoice="{invoice.id}"[^>]*>(.*?)</tr>', overview, re.S).group(
            1
        )
        assert re.search(rf'<td data-exact="booked">\s*{number}\s*</td>', row), row
        detail = text(admin_client.get(f"/invoices/{invoice.id}"))
        journal = exact.credit_note_journal if invoice.is_credit_note else exact.invoice_journal
        assert f"entry {number} in journal {journal}" in detail


# -- 2. payment status from Exact --------------------------------------------------------------


@pytest.fixture
def paying(exact_app, admin, connection, belgian, imported):
    """Everything forwarded, with payments read back from Exact."""
    exact = settle_mapping(exact_app, admin, connection, belgian, read_payments=True)
    summary = exact_jobs.forward_to_exact("manual")
    assert summary.startswith(f"{len(imported)} booked"), summary
    return exact


def open_invoices(documents: list[Invoice]) -> list[Invoice]:
    db.session.expire_all()
    found = [db.session.get(Invoice, d.id) for d in documents]
    return [
        d
        for d in found
        if d.kind == DocumentKind.INVOICE and d.state in ledger.OPEN and d.amount_due > 0
    ]


def test_payments_in_exact_mark_invoices_paid_once(
    exact_app, exact_sandbox, imported, paying, redis_conn
):
    full, partial = open_invoices(imported)[:2]
    credit_note = next(d for d in imported if d.kind == DocumentKind.CREDIT_NOTE)
    due = full.amount_due
    partial_state = partial.state
    credit_state = db.session.get(Invoice, credit_note.id).state
    pay = exact_sandbox.control
    pay("POST", f"receivables/{booking_of(full).entry_id}/pay", json={})
    [term] = pay("POST", f"receivables/{booking_of(partial).entry_id}/pay", json={"amount": "1"})
    assert term["IsFullyPaid"] is False
    pay("POST", f"receivables/{booking_of(credit_note).entry_id}/pay", json={})
    payments = db.session.scalar(db.select(db.func.count()).select_from(Payment))
    redis_conn.flushdb()  # only what this run queues

    summary = exact_jobs.forward_to_exact("schedule")
    assert summary.startswith("0 booked"), summary
    run = last_run()
    assert run.paid == 1 and run.problem is None

    full = db.session.get(Invoice, full.id)
    assert full.state == InvoiceState.PAID and full.amount_due == 0
    [payment] = db.session.scalars(db.select(Payment).filter_by(invoice_id=full.id)).all()
    assert payment.source == PaymentSource.EXACT and payment.amount == due
    assert payment.reference == str(booking_of(full).entry_number)
    assert booking_of(full).paid_in_exact_at is not None
    # Teamleader is owed the payment: its outbox row, and the delivery job rung.
    sync = db.session.scalars(db.select(TeamleaderSync).filter_by(invoice_id=full.id)).one()
    assert sync.wanted > sync.done
    queued = Queue("high", connection=redis_conn).jobs
    assert [j.func_name for j in queued] == ["collector.teamleader.jobs.push_teamleader"]

    # Partly paid: still open. A credit note: never marked paid this way.
    for document, state in ((partial, partial_state), (credit_note, credit_state)):
        document = db.session.get(Invoice, document.id)
        assert document.state == state
        assert not db.session.scalars(db.select(Payment).filter_by(invoice_id=document.id)).all()
        assert booking_of(document).paid_in_exact_at is None

    # A second run records nothing new.
    exact_jobs.forward_to_exact("schedule")
    assert last_run().paid == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(Payment)) == payments + 1


# -- 3. one document refused, run after run --------------------------------------------------


def test_a_refused_document_never_blocks_the_rest_and_alerts_the_admins_once(
    exact_app, exact_sandbox, connection, belgian, imported, admin
):
    alert_after = 2
    settle_mapping(exact_app, admin, connection, belgian, alert_after=alert_after)
    reason = "Customer account is blocked"

    def refusing_run() -> ExactSyncRun:
        # Exact refuses the first sales entry posted in this run: in the first run one
        # document among many, later (the rest booked) that same document alone.
        fault(
            exact_sandbox,
            method="POST",
            path_contains=SALES_ENTRIES,
            status=400,
            count=1,
            body=reason,
        )
        exact_jobs.forward_to_exact("schedule")
        assert exact_sandbox.control("GET", "faults") == [], "the refusal was used"
        return last_run()

    first = refusing_run()
    assert (first.booked, first.failed, first.problem) == (len(imported) - 1, 1, None)
    [error] = first.errors
    failing = next(d for d in imported if d.id == error["invoice_id"])
    assert reason in error["reason"]
    assert set(refs(exact_sandbox)) == {d.number for d in imported} - {failing.number}
    assert booking_of(failing).failures == 1
    assert not db.session.scalars(db.select(MailMessage)).all()

    second = refusing_run()
    assert (second.booked, second.failed) == (0, 1)
    assert [e["invoice_id"] for e in second.errors] == [failing.id]
    booking = booking_of(failing)
    assert booking.status == BookingStatus.FAILED and booking.failures == alert_after
    [alert] = db.session.scalars(db.select(OperatorAlert)).all()
    assert (alert.kind, alert.subject) == (operator_alerts.EXACT_REFUSED, failing.number)
    assert reason in alert.fact and alert.count == 1
    accounts_jobs.send_operator_digest()
    [mail] = db.session.scalars(db.select(MailMessage)).all()
    assert mail.kind == digest.KIND and mail.recipient == admin.email
    assert failing.number in mail.body_text and reason in mail.body_text

    assert refusing_run().failed == 1  # fails once more: not told again
    assert booking_of(failing).failures == alert_after + 1
    assert operator_alerts.waiting() == []

    exact_jobs.forward_to_exact("schedule")  # the fault is gone
    assert (last_run().booked, last_run().failed) == (1, 0)
    booking = booking_of(failing)
    assert booking.status == BookingStatus.BOOKED and booking.failures == 0
    assert booking.reason is None
    counted = refs(exact_sandbox)
    assert set(counted) == {d.number for d in imported} and set(counted.values()) == {1}
    # The PDF went up once, though the entry was refused three times.
    documents = exact_sandbox.control("GET", "documents")
    assert sum(failing.number in d["Subject"] for d in documents) == 1
    assert db.session.scalar(db.select(db.func.count()).select_from(MailMessage)) == 1


# -- 4. an outage ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status, body",
    [(503, "Service Unavailable"), (500, None)],  # None: Exact's generic "A problem has…"
)
@pytest.mark.parametrize("applied", [False, True], ids=["not-booked", "booked-anyway"])
def test_an_outage_stops_the_run_without_failing_documents(
    exact_app, exact_sandbox, admin, connection, belgian, imported, status, body, applied
):
    exact = settle_mapping(exact_app, admin, connection, belgian)
    spec = {"method": "POST", "path_contains": SALES_ENTRIES, "status": status, "count": 1}
    fault(exact_sandbox, **spec, **({"body": body} if body else {}))

    summary = exact_jobs.forward_to_exact("schedule")
    run = last_run()
    assert run.problem and run.problem.startswith("The run stopped:"), summary
    assert (run.booked, run.failed, run.errors) == (0, 0, [])
    assert entries(exact_sandbox) == []
    [attempted] = db.session.scalars(
        db.select(ExactBooking).where(ExactBooking.last_attempt_at.is_not(None))
    ).all()
    assert attempted.status != BookingStatus.FAILED and attempted.failures == 0
    assert attempted.entry_id is None
    assert not db.session.scalars(db.select(MailMessage)).all()

    invoice = attempted.invoice
    if applied:
        # Exact booked it before failing (reference §11.15): put the same entry there.
        tl = teamleader_setup.client(exact_app, current_connection())
        read = tl.credit_notes_info if invoice.is_credit_note else tl.invoices_info
        body = exact_entries.entry_body(invoice, read(invoice.teamleader_id), exact)
        body = exact_entries.with_links(body, attempted.account_id, attempted.document_id)
        exact_setup.client(exact_app, exact).create_sales_entry(body)

    exact_jobs.forward_to_exact("schedule")
    again = last_run()
    assert again.problem is None and again.failed == 0
    assert (again.found, again.booked) == (
        (1, len(imported) - 1) if applied else (0, len(imported))
    )
    counted = refs(exact_sandbox)
    assert set(counted) == {d.number for d in imported} and set(counted.values()) == {1}
    booking = booking_of(invoice)
    assert booking.status == BookingStatus.BOOKED
    [entry] = [e for e in entries(exact_sandbox) if e["YourRef"] == invoice.number]
    assert booking.entry_id.lower() == entry["EntryID"].lower()


# -- 5. events -------------------------------------------------------------------------------


@pytest.fixture
def without_pdfs(tl_app, connection, belgian):
    """Import 30 days of documents, their PDFs not fetched yet."""

    def run_import() -> list[Invoice]:
        tl_app.config.update(TEAMLEADER_RATE_LIMIT=100_000)
        today = local_today()
        imp = imports.create_import(
            ImportSource.CLI, date_from=today - timedelta(days=30), date_to=today
        )
        teamleader_jobs.run_import(imp.id)
        documents = list(db.session.scalars(db.select(Invoice)))
        assert documents and not any(d.pdf_key for d in documents)
        return documents

    return run_import


def test_arriving_pdfs_start_a_forwarding_run(
    exact_app, exact_sandbox, admin, connection, belgian, without_pdfs, redis_conn
):
    settle_mapping(exact_app, admin, connection, belgian)
    documents = without_pdfs()
    # New documents are an event too; they wait for their PDFs.
    [after_import] = forward_jobs()
    assert after_import.args == ["event"]

    teamleader_jobs.fetch_scheduled_pdfs()
    after_pdfs = forward_jobs()[1:]
    assert [j.args for j in after_pdfs] == [["event"]]
    assert after_pdfs[0].job_id in Queue("default", connection=redis_conn).job_ids

    drain(exact_app, redis_conn)
    runs = db.session.scalars(db.select(ExactSyncRun)).all()
    assert runs and {r.trigger for r in runs} == {SyncTrigger.EVENT}
    belgian_documents = [d for d in documents if d.department_id == belgian]
    assert set(refs(exact_sandbox)) == {d.number for d in belgian_documents}


def test_no_forwarding_run_while_forwarding_is_off(
    exact_app, exact_sandbox, connection, admin, without_pdfs, redis_conn
):
    # Connected, administration chosen, settings never saved: forwarding is off.
    exact = support.connect(exact_app, admin)
    support.choose(exact_app, exact, connection)
    assert exact.status == ConnectionStatus.CONNECTED and not exact.forwarding
    documents = without_pdfs()
    teamleader_jobs.fetch_scheduled_pdfs()
    db.session.expire_all()
    held = db.session.scalars(db.select(Invoice)).all()
    assert held and len(held) == len(documents)
    assert all(d.pdf_key for d in held)
    assert forward_jobs() == []
    queued = [j.func_name for q in QUEUES for j in Queue(q, connection=redis_conn).jobs]
    assert "collector.exact.jobs.forward_to_exact" not in queued
