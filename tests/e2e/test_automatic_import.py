"""Automatic import against the Teamleader sandbox: webhook deliveries acted on by
re-reading the subject, the sweep, and the whole path through a real rq worker."""

import os
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from collector.core.clock import local_today
from collector.core.columns import utcnow
from collector.documents.models import Customer, DocumentKind, Invoice, InvoiceState
from collector.documents.profiles import create_profile
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from collector.runtime.models import JobRun, JobStatus
from collector.teamleader import connection as teamleader_connection
from collector.teamleader import imports, notifications
from collector.teamleader import setup as teamleader_setup
from collector.teamleader.models import DeliveryStatus, DocumentImport, ImportSource
from tests.conftest import TEST_REDIS_URL
from tests.e2e.conftest import grant_code

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sandbox_config():
    return {"SEED": 5, "INVOICE_COUNT": 30, "RATE_LIMIT": 100_000}


@pytest.fixture
def auto(tl_app, connection):
    """Automatic import on, with a default profile."""
    tl_app.config["TEAMLEADER_RATE_LIMIT"] = 100_000
    connection.default_profile_id = create_profile(
        {"name": "Default", "allow_bank_transfer": True}
    ).id
    connection.auto_import = True
    db.session.commit()
    return connection


def client_for(app, connection):
    return teamleader_setup.client(app, connection, sleep=lambda seconds: None)


def deliver(app, connection, kind, subject_id):
    """A delivery as the receiver stores it, then handled as the job would."""
    body = {
        "type": kind,
        "subject": {"type": kind.split(".")[0], "id": subject_id},
        "account": {"type": "account", "id": connection.account_id},
    }
    delivery = notifications.receive(connection.webhook_token, body)
    outcome = notifications.handle_delivery(client_for(app, connection), delivery)
    return delivery, outcome


def held(teamleader_id):
    return db.session.scalars(db.select(Invoice).filter_by(teamleader_id=teamleader_id)).first()


def test_invoice_booked_imports_it(tl_app, sandbox, auto):
    booked = sandbox.control("POST", "invoices", json={"amount": 80})["data"]

    delivery, outcome = deliver(tl_app, auto, "invoice.booked", booked["id"])

    invoice = held(booked["id"])
    assert invoice is not None and invoice.kind == DocumentKind.INVOICE
    assert invoice.profile.name == "Default"
    assert delivery.status == DeliveryStatus.PROCESSED and "1 imported" in outcome
    imp = invoice.document_import
    assert imp.source == ImportSource.WEBHOOK and imp.teamleader_ids == [
        {"type": "invoice", "id": booked["id"]}
    ]
    # A repeated delivery changes nothing and leaves no empty import behind.
    deliver(tl_app, auto, "invoice.booked", booked["id"])
    assert db.session.scalar(db.select(db.func.count(Invoice.id))) == 1
    assert db.session.scalar(db.select(db.func.count(DocumentImport.id))) == 1


def test_with_automatic_import_off_nothing_is_imported(tl_app, sandbox, auto):
    auto.auto_import = False
    db.session.commit()
    booked = sandbox.control("POST", "invoices", json={"amount": 80})["data"]

    delivery, outcome = deliver(tl_app, auto, "invoice.booked", booked["id"])

    assert held(booked["id"]) is None
    assert delivery.status == DeliveryStatus.IGNORED and outcome == "Automatic import is off."


def test_an_invoice_of_another_department_is_skipped(tl_app, sandbox, auto):
    dutch = next(d["id"] for d in auto.departments if "Nederland" in d["name"])
    auto.import_department_ids = [d["id"] for d in auto.departments if d["id"] != dutch]
    db.session.commit()
    booked = sandbox.control("POST", "invoices", json={"department_id": dutch, "amount": 10})

    delivery, outcome = deliver(tl_app, auto, "invoice.booked", booked["data"]["id"])

    assert held(booked["data"]["id"]) is None
    assert "0 imported, 1 skipped" in outcome
    # An automatic import that did nothing leaves no row in the history.
    assert db.session.scalar(db.select(db.func.count(DocumentImport.id))) == 0


def test_credit_note_booked_imports_it_and_offsets_the_invoice(tl_app, sandbox, auto):
    booked = sandbox.control("POST", "invoices", json={"amount": 100})["data"]
    deliver(tl_app, auto, "invoice.booked", booked["id"])
    note = sandbox.control("POST", "credit-notes", json={"invoice_id": booked["id"], "amount": 30})[
        "data"
    ]

    deliver(tl_app, auto, "creditNote.booked", note["id"])

    credit_note, invoice = held(note["id"]), held(booked["id"])
    assert credit_note.number.startswith("CN") and credit_note.credited_invoice_id == invoice.id
    payable = sandbox.data.invoices[booked["id"]]["total"]["payable"]["amount"]
    assert invoice.amount_due == payable - Decimal(30)


@pytest.mark.parametrize(
    ("kind", "collection", "change"),
    [
        ("contact", "contacts", {"email": "new-address@example.org"}),
        # Companies send invoices to their invoicing address, so it wins over the primary.
        (
            "company",
            "companies",
            {"email": "new-primary@example.org", "invoicing_email": "new-address@example.org"},
        ),
    ],
)
def test_contact_or_company_updated_updates_the_customer(
    tl_app, sandbox, auto, kind, collection, change
):
    customer_id = min(getattr(sandbox.data, collection))
    booked = sandbox.control(
        "POST", "invoices", json={"amount": 80, "customer": {"type": kind, "id": customer_id}}
    )["data"]
    deliver(tl_app, auto, "invoice.booked", booked["id"])
    customer = held(booked["id"]).customer
    assert (customer.kind.value, customer.teamleader_id) == (kind, customer_id)
    assert customer.email != "new-address@example.org"
    sandbox.control("PATCH", f"{collection}/{customer_id}", json=change)

    delivery, _ = deliver(tl_app, auto, f"{kind}.updated", customer_id)

    db.session.refresh(customer)
    assert delivery.status == DeliveryStatus.PROCESSED
    assert customer.email == "new-address@example.org"


def test_invoice_updated_records_what_changed_without_applying_it(tl_app, sandbox, auto):
    booked = sandbox.control("POST", "invoices", json={"amount": 80})["data"]
    deliver(tl_app, auto, "invoice.booked", booked["id"])
    invoice = held(booked["id"])
    due_before, amount_before = invoice.due_date, invoice.total_incl_vat
    new_due = (due_before or local_today()) + timedelta(days=14)
    sandbox.control("PATCH", f"invoices/{booked['id']}", json={"due_on": new_due.isoformat()})

    deliver(tl_app, auto, "invoice.updated", booked["id"])

    db.session.refresh(invoice)
    change = [e for e in invoice.events if e.kind == "changed_in_teamleader"]
    assert len(change) == 1
    assert change[0].details["changes"]["due date"][1] == new_due.isoformat()
    assert (invoice.due_date, invoice.total_incl_vat) == (due_before, amount_before)
    # The same delivery again: Teamleader's updated_at has not moved, nothing new.
    deliver(tl_app, auto, "invoice.updated", booked["id"])
    db.session.refresh(invoice)
    assert len([e for e in invoice.events if e.kind == "changed_in_teamleader"]) == 1


def test_a_payment_registered_in_teamleader_is_recorded(tl_app, sandbox, auto):
    booked = sandbox.control("POST", "invoices", json={"amount": 80})["data"]
    deliver(tl_app, auto, "invoice.booked", booked["id"])
    sandbox.control("POST", f"invoices/{booked['id']}/payments", json={})

    deliver(tl_app, auto, "invoice.paymentRegistered", booked["id"])

    invoice = held(booked["id"])
    assert invoice.teamleader_status == "matched" and invoice.teamleader_due == 0
    event = [e for e in invoice.events if e.kind == "teamleader_payment"][-1]
    assert event.details["status"] == "matched"
    # Paid here too, by a payment whose source is Teamleader, and nothing owed back.
    assert invoice.state == InvoiceState.PAID
    assert [(p.source.value, p.amount) for p in invoice.payments] == [("teamleader", 80)]
    assert invoice.teamleader_sync is None or not invoice.teamleader_sync.outstanding

    sandbox.control("DELETE", f"invoices/{booked['id']}/payments")
    deliver(tl_app, auto, "invoice.paymentRemoved", booked["id"])
    db.session.refresh(invoice)
    assert invoice.teamleader_status == "outstanding" and invoice.teamleader_due > 0
    assert invoice.state in (InvoiceState.BOOKED, InvoiceState.EXPIRED)
    assert [p.counts for p in invoice.payments] == [False]


def test_the_sweep_catches_what_no_webhook_announced(tl_app, sandbox, auto):
    today = local_today()
    imp = imports.create_import(
        ImportSource.CLI, date_from=today - timedelta(days=30), date_to=today
    )
    imports.run_import(client_for(tl_app, auto), auto, imp)
    auto.last_swept_at = utcnow()
    db.session.commit()
    booked = sandbox.control("POST", "invoices", json={"amount": 42})["data"]
    customer = db.session.scalars(
        db.select(Customer).where(Customer.kind == "contact").order_by(Customer.id)
    ).first()
    sandbox.control(
        "PATCH", f"contacts/{customer.teamleader_id}", json={"email": "swept@example.org"}
    )
    sandbox.reset_calls()

    outcome = notifications.sweep(client_for(tl_app, auto), auto, utcnow())

    assert held(booked["id"]) is not None
    assert held(booked["id"]).document_import.source == ImportSource.SWEEP
    db.session.refresh(customer)
    assert customer.email == "swept@example.org"
    assert "1 imported" in outcome
    calls = sandbox.calls()
    # Per department one invoices.list and one creditNotes.list, the customer lists, and
    # the batched look-up of the new invoice's customer: no call per document.
    assert calls["invoices.list"] == 2 and calls["creditNotes.list"] == 2
    assert "invoices.info" not in calls


def test_booking_in_teamleader_reaches_the_database_through_the_real_worker(
    tl_app, sandbox, admin, live_server, redis_conn, tmp_path
):
    """Acceptance: nobody presses a button — Teamleader's webhook, our receiver, rq,
    a worker process, the API re-read, the import."""
    tl_app.config["PUBLIC_BASE_URL"] = live_server
    connection = teamleader_connection.complete_connect(
        teamleader_setup.oauth(tl_app),
        teamleader_setup.client_factory(tl_app),
        runtime_setup.cipher(tl_app),
        grant_code(tl_app),
        admin,
        live_server,
    )
    connection.default_profile_id = create_profile({"name": "D", "allow_bank_transfer": True}).id
    connection.auto_import = True
    db.session.commit()
    worker = start_worker(tl_app, tmp_path)
    try:
        booked = sandbox.control("POST", "invoices", json={"amount": 123})["data"]
        invoice = wait_for(lambda: held(booked["id"]))
        assert invoice.customer.teamleader_id == booked["invoicee"]["customer"]["id"]

        customer = invoice.customer
        collection = "contacts" if customer.kind.value == "contact" else "companies"
        sandbox.control(
            "PATCH", f"{collection}/{customer.teamleader_id}", json={"vat_number": "BE0123456749"}
        )
        wait_for(lambda: _vat(customer.id) == "BE0123456749")
    finally:
        worker.terminate()
        worker.wait(timeout=10)
    runs = db.session.scalars(db.select(JobRun).order_by(JobRun.id)).all()
    assert {r.name for r in runs} == {"handle_teamleader_delivery"}
    assert all(r.status == JobStatus.FINISHED for r in runs)


def _vat(customer_id):
    db.session.expire_all()
    return db.session.get(Customer, customer_id).vat_number


def start_worker(app, tmp_path):
    env = {
        **os.environ,
        "ENV": "test",
        "SECRET_KEY": app.config["SECRET_KEY"],  # the token cipher's key comes from it
        "DATABASE_URL": app.config["DATABASE_URL"],
        "REDIS_URL": TEST_REDIS_URL,
        "TEAMLEADER_API_URL": app.config["TEAMLEADER_API_URL"],
        "TEAMLEADER_AUTH_URL": app.config["TEAMLEADER_AUTH_URL"],
        "TEAMLEADER_CLIENT_ID": app.config["TEAMLEADER_CLIENT_ID"],
        "TEAMLEADER_CLIENT_SECRET": app.config["TEAMLEADER_CLIENT_SECRET"],
        "TEAMLEADER_RATE_LIMIT": "100000",
        "INSTANCE_PATH": str(tmp_path / "worker-instance"),
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(  # noqa: S603 - our own worker script
        [sys.executable, str(ROOT / "worker.py")], cwd=tmp_path, env=env
    )


def wait_for(probe, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        found = probe()
        if found:
            return found
        time.sleep(0.2)
    pytest.fail("the worker did not get there in time")
