"""Importing from the Teamleader sandbox: the right documents, profiles, credit notes and
customers, idempotent, concurrent-safe, and resumable after a failure."""

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest

from collector.core.clock import local_today
from collector.documents import timeline
from collector.documents.models import Customer, DocumentKind, Invoice, InvoiceState
from collector.documents.profiles import create_profile
from collector.extensions import db
from collector.teamleader import Unavailable, imports
from collector.teamleader import setup as teamleader_setup
from collector.teamleader.importer import Progress
from collector.teamleader.models import DocumentImport, ImportSource, ImportStatus

OPTIONS = ("Direct debit", "Payment link", "Bank transfer")


@pytest.fixture
def sandbox_config():
    return {
        "SEED": 11,
        "INVOICE_COUNT": 150,
        "CONTACT_COUNT": 25,
        "COMPANY_COUNT": 30,
        # "Cheque" is an option in Teamleader with no profile of that name here.
        "PROFILE_OPTIONS": [*OPTIONS, "Cheque"],
        # The rate limit is tested on its own (test_teamleader_rate_limit, bench/);
        # here it would only make the tests wait.
        "RATE_LIMIT": 100_000,
    }


@pytest.fixture(autouse=True)
def unthrottled(tl_app):
    tl_app.config["TEAMLEADER_RATE_LIMIT"] = 100_000


@pytest.fixture
def profiles(app):
    made = {
        name: create_profile({"name": name, "allow_bank_transfer": True})
        for name in (*OPTIONS, "Default")
    }
    return {name: profile.id for name, profile in made.items()}


@pytest.fixture
def settings(connection, profiles, sandbox):
    """Every department, the default profile, and both profile custom fields."""
    fields = {f["context"]: f["id"] for f in connection.custom_fields if "rofile" in f["label"]}
    connection.default_profile_id = profiles["Default"]
    connection.invoice_profile_field_id = fields["invoice"]
    connection.subscription_profile_field_id = fields["subscription"]
    db.session.commit()
    return connection


def client_for(app, connection, **options):
    # No waiting between retries: a test needs the outcome, not the backoff.
    return teamleader_setup.client(app, connection, sleep=lambda seconds: None, **options)


def run(app, connection, first, last, **options):
    imp = imports.create_import(ImportSource.CLI, date_from=first, date_to=last)
    return imports.run_import(client_for(app, connection), connection, imp, **options)


def expected(sandbox, first, last, departments=None):
    """Ground truth from the emulator's own data."""
    data = sandbox.data

    def chosen(record):
        return departments is None or record["department"]["id"] in departments

    invoices = {
        i["id"]
        for i in data.invoices.values()
        if i["status"] in ("outstanding", "matched")
        and first <= i["invoice_date"] <= last
        and chosen(i)
    }
    notes = {
        n["id"]
        for n in data.credit_notes.values()
        if first <= n["credit_note_date"] <= last and chosen(n)
    }
    return invoices, notes


def zero_term_warnings(sandbox):
    """(invoices with the 0-day warning, invoices from a 0-day subscription)."""
    warned, expected_ = set(), set()
    for invoice in db.session.scalars(db.select(Invoice).where(Invoice.kind == "invoice")):
        if any(e.kind == "payment_term_zero" for e in invoice.events):
            warned.add(invoice.teamleader_id)
        record = sandbox.data.invoices[invoice.teamleader_id]
        subscription = sandbox.data.subscriptions.get((record.get("subscription") or {}).get("id"))
        if subscription and subscription["payment_term"]["days"] == 0:
            expected_.add(invoice.teamleader_id)
    return warned, expected_


def imported_ids(kind):
    return set(db.session.scalars(db.select(Invoice.teamleader_id).where(Invoice.kind == kind)))


def expected_profile(sandbox, settings, record, profiles):
    """The chain of DESIGN §1.5, computed from the emulator's data."""
    by_name = {name.casefold(): pid for name, pid in profiles.items()}

    def named(holder, field_id):
        values = [v["value"] for v in (holder or {}).get("custom_fields") or []]
        values = [
            v
            for v, f in zip(values, (holder or {}).get("custom_fields") or [], strict=True)
            if f["definition"]["id"] == field_id and v
        ]
        return next((by_name[v.casefold()] for v in values if v.casefold() in by_name), None)

    subscription = sandbox.data.subscriptions.get((record.get("subscription") or {}).get("id"))
    return (
        named(record, settings.invoice_profile_field_id)
        or named(subscription, settings.subscription_profile_field_id)
        or profiles["Default"]  # every customer is new, so on the default
    )


def test_a_thirty_day_import_takes_exactly_the_booked_documents_in_range(
    tl_app, sandbox, settings, profiles
):
    today = local_today()
    first, last = today - timedelta(days=30), today
    want_invoices, want_notes = expected(sandbox, first, last)
    assert want_invoices and want_notes  # the seed gives both, or the test proves nothing

    imp = run(tl_app, settings, first, last)

    assert imp.status == ImportStatus.FINISHED
    assert imported_ids(DocumentKind.INVOICE) == want_invoices
    assert imported_ids(DocumentKind.CREDIT_NOTE) == want_notes
    assert imp.count("imported") == len(want_invoices) + len(want_notes)
    data = sandbox.data
    for invoice in db.session.scalars(db.select(Invoice)):
        if invoice.kind == DocumentKind.CREDIT_NOTE:
            record = data.credit_notes[invoice.teamleader_id]
            assert invoice.number == "CN" + record["credit_note_number"]
            assert invoice.state == InvoiceState.ARCHIVED and invoice.amount_due == 0
            credited = record["invoice"]["id"]
            if credited in want_invoices:
                assert invoice.credited_invoice.teamleader_id == credited
            continue
        record = data.invoices[invoice.teamleader_id]
        assert invoice.number == record["invoice_number"]
        assert invoice.profile_id == expected_profile(sandbox, settings, record, profiles)
        assert invoice.customer.teamleader_id == record["invoicee"]["customer"]["id"]
        due = record["total"]["due"]["amount"]
        if record["total"]["payable"]["amount"] == 0:
            assert invoice.state == InvoiceState.ARCHIVED  # imported, nothing to collect
        elif record["status"] == "matched":
            assert invoice.state in (InvoiceState.PAID, InvoiceState.ARCHIVED)
        else:
            assert invoice.state in (InvoiceState.BOOKED, InvoiceState.EXPIRED)
        assert invoice.amount_due == (0 if record["status"] == "matched" else due)
    # One customer per Teamleader contact/company, numbered with its UUID.
    refs = {data.invoices[i]["invoicee"]["customer"]["id"] for i in want_invoices} | {
        data.credit_notes[n]["invoicee"]["customer"]["id"] for n in want_notes
    }
    customers = db.session.scalars(db.select(Customer)).all()
    assert sorted(c.teamleader_id for c in customers) == sorted(refs)
    assert all(c.customer_number == c.teamleader_id for c in customers)
    # The generator's first subscription has a 0-day payment term (read via subscriptions.info).
    warned, zero_term = zero_term_warnings(sandbox)
    assert zero_term and warned == zero_term


def test_profile_choice_uses_the_custom_fields_and_notes_unknown_profiles(
    tl_app, sandbox, settings, profiles
):
    booked = [
        sandbox.control("POST", "invoices", json={"amount": 100, "profile": label})["data"]
        for label in ("Payment link", "Cheque", None)
    ]
    today = local_today()
    # The sandbox dates what it books by its UTC day, which is yesterday here for the
    # hour after local midnight: import both days.
    since = today - timedelta(days=1)
    run(tl_app, settings, since, today)

    def invoice(ident):
        return db.session.scalars(db.select(Invoice).filter_by(teamleader_id=ident)).one()

    assert invoice(booked[0]["id"]).profile_id == profiles["Payment link"]
    unknown = invoice(booked[1]["id"])
    assert unknown.profile_id == profiles["Default"]  # fell through the chain
    assert [e.kind for e in unknown.events] == ["imported", "profile_not_found"]
    assert "Cheque" in unknown.events[1].message
    assert invoice(booked[2]["id"]).profile_id == profiles["Default"]


def test_running_it_again_adds_nothing(tl_app, sandbox, settings):
    today = local_today()
    first = run(tl_app, settings, today - timedelta(days=30), today)
    count = db.session.scalar(db.select(db.func.count(Invoice.id)))
    second = run(tl_app, settings, today - timedelta(days=30), today)

    assert db.session.scalar(db.select(db.func.count(Invoice.id))) == count
    assert second.count("imported") == 0
    assert second.count("skipped") == first.count("imported")


@pytest.mark.postgres  # SQLite serialises writers; the race needs a real database
def test_three_imports_at_once_add_nothing_twice(tl_app, sandbox, settings):
    today = local_today()
    first, last = today - timedelta(days=30), today
    ids = [
        imports.create_import(ImportSource.CLI, date_from=first, date_to=last).id for _ in range(3)
    ]
    barrier, errors = threading.Barrier(3), []

    def worker(import_id):
        with tl_app.app_context():
            try:
                connection = db.session.get(type(settings), settings.id)
                imp = db.session.get(DocumentImport, import_id)
                barrier.wait()
                imports.run_import(client_for(tl_app, connection), connection, imp)
            except Exception as exc:  # reported below, never swallowed
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    want_invoices, want_notes = expected(sandbox, first, last)
    rows = db.session.scalars(db.select(Invoice.teamleader_id)).all()
    assert sorted(rows) == sorted(want_invoices | want_notes)  # each exactly once
    runs = db.session.scalars(db.select(DocumentImport)).all()
    assert sum(r.count("imported") for r in runs) == len(rows)
    customers = db.session.scalars(db.select(Customer.teamleader_id)).all()
    assert len(customers) == len(set(customers))


def test_only_the_chosen_departments(tl_app, sandbox, settings):
    belgian = [d["id"] for d in settings.departments if "Nederland" not in d["name"]]
    settings.import_department_ids = belgian
    db.session.commit()
    today = local_today()
    first = today - timedelta(days=60)
    run(tl_app, settings, first, today)

    want_invoices, want_notes = expected(sandbox, first, today, set(belgian))
    assert imported_ids(DocumentKind.INVOICE) == want_invoices
    assert imported_ids(DocumentKind.CREDIT_NOTE) == want_notes
    departments = set(db.session.scalars(db.select(Invoice.department_id)))
    assert departments == set(belgian)


class FailAfterFirstChunk(Progress):
    """Breaks Teamleader once the first chunk of documents is in."""

    def __init__(self, sandbox):
        self.sandbox, self.armed = sandbox, True

    def advance(self, step=1, **counts):
        if self.armed and counts.get("imported"):
            self.armed = False
            self.sandbox.control(
                "POST", "faults", json={"kind": "error", "endpoint": "invoices.info", "count": 50}
            )


def test_a_teamleader_failure_mid_import_fails_it_cleanly_and_a_rerun_completes_it(
    tl_app, sandbox, settings
):
    today = local_today()
    first = today - timedelta(days=90)
    want_invoices, _ = expected(sandbox, first, today)
    assert len(want_invoices) > 100  # more than one chunk
    imp = imports.create_import(ImportSource.CLI, date_from=first, date_to=today)
    client = client_for(tl_app, settings, max_retries=1)

    with pytest.raises(Unavailable, match="invoices.info: HTTP 500"):
        imports.run_import(client, settings, imp, progress=FailAfterFirstChunk(sandbox))

    db.session.refresh(imp)
    assert imp.status == ImportStatus.FAILED
    assert "Teamleader failed" in imp.error and "500" in imp.error
    partial = db.session.scalars(db.select(Invoice)).all()
    assert 0 < len(partial) < len(want_invoices)
    assert all(i.events and i.customer for i in partial)  # whole documents, nothing half-made

    sandbox.control("DELETE", "faults")
    again = run(tl_app, settings, first, today)
    assert again.status == ImportStatus.FINISHED
    assert imported_ids(DocumentKind.INVOICE) == want_invoices


def test_customer_number_is_reset_and_the_chosen_profile_kept(tl_app, sandbox, settings, profiles):
    settings.invoice_profile_field_id = settings.subscription_profile_field_id = None
    db.session.commit()
    today = local_today()
    run(tl_app, settings, today - timedelta(days=30), today)
    customer = db.session.scalars(db.select(Customer).order_by(Customer.id)).first()
    uuid = customer.teamleader_id
    customer.customer_number = "EDITED-HERE"
    customer.profile_id = profiles["Bank transfer"]
    db.session.commit()

    run(tl_app, settings, today - timedelta(days=30), today)

    db.session.refresh(customer)
    assert customer.customer_number == uuid
    assert customer.profile_id == profiles["Bank transfer"]
    # Without the subscription field no subscriptions.info is read; the due date tells.
    warned, zero_term = zero_term_warnings(sandbox)
    assert zero_term and warned == zero_term


def test_an_invoice_credited_after_import_is_offset_and_archived_when_fully_credited(
    tl_app, sandbox, settings
):
    partial = sandbox.control("POST", "invoices", json={"amount": 100})["data"]
    full = sandbox.control("POST", "invoices", json={"amount": 50})["data"]
    today = local_today()
    # The sandbox dates what it books by its UTC day, which is yesterday here for the
    # hour after local midnight: import both days.
    since = today - timedelta(days=1)
    run(tl_app, settings, since, today)
    sandbox.control("POST", "credit-notes", json={"invoice_id": partial["id"], "amount": 20})
    sandbox.control("POST", "credit-notes", json={"invoice_id": full["id"]})

    run(tl_app, settings, since, today)

    def invoice(ident):
        return db.session.scalars(db.select(Invoice).filter_by(teamleader_id=ident)).one()

    credited = invoice(partial["id"])
    payable = sandbox.data.invoices[partial["id"]]["total"]["payable"]["amount"]
    assert credited.amount_due == payable - Decimal("20.00")
    assert credited.state in (InvoiceState.BOOKED, InvoiceState.EXPIRED)
    gone = invoice(full["id"])
    assert gone.amount_due == 0 and gone.state == InvoiceState.ARCHIVED
    assert [e.kind for e in gone.events][-2:] == ["credited", "state_changed"]
    notes = db.session.scalars(
        db.select(Invoice).where(Invoice.kind == DocumentKind.CREDIT_NOTE)
    ).all()
    assert {n.credited_invoice_id for n in notes} == {credited.id, gone.id}


def test_deleting_an_import_removes_untouched_documents_and_keeps_customers(
    tl_app, sandbox, settings
):
    today = local_today()
    imp = run(tl_app, settings, today - timedelta(days=30), today)
    touched = db.session.scalars(
        db.select(Invoice).where(Invoice.kind == DocumentKind.INVOICE).order_by(Invoice.id)
    ).first()
    timeline.record(touched, "invitation_sent", "Invitation sent.", actor="test")
    db.session.commit()
    customers = db.session.scalar(db.select(db.func.count(Customer.id)))
    total = imp.count("imported")

    imports.delete_import(imp, None)

    remaining = db.session.scalars(db.select(Invoice)).all()
    assert [i.id for i in remaining if i.kind == DocumentKind.INVOICE] == [touched.id]
    assert imp.status == ImportStatus.DELETED
    assert imp.deleted_documents == total - len(remaining)
    assert imp.kept_documents == len(remaining)
    assert db.session.scalar(db.select(db.func.count(Customer.id))) == customers
    # Deleting does not stop a later import from bringing them back.
    again = run(tl_app, settings, today - timedelta(days=30), today)
    assert again.count("imported") == total - len(remaining)


def test_a_reversed_or_absurd_range_is_refused(app):
    from collector.core.errors import Invalid

    today = date(2026, 11, 21)
    for first, last, reason in [
        (today, today - timedelta(days=1), {"date_to": ["The range ends before it starts."]}),
        (date(1990, 1, 1), today, {"date_from": ["Choose a day after 2000-01-01."]}),
        (today - timedelta(days=1000), today, {"date_to": ["Import at most 731 days at once."]}),
        (
            today + timedelta(days=5),
            today + timedelta(days=6),
            {"date_from": ["The range starts in the future."]},
        ),
    ]:
        with pytest.raises(Invalid) as refused:
            imports.create_import(ImportSource.CLI, date_from=first, date_to=last, today=today)
        assert refused.value.errors == reason
    assert db.session.scalar(db.select(db.func.count(DocumentImport.id))) == 0
