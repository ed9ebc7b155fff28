"""Acceptance 2 over sandbox data: invoices imported from the Teamleader emulator, their
debit announced by invitations a real SMTP server receives, then collected in a pain.008
that validates against the ISO schema — FRST on each mandate's first use, RCUR after."""

from __future__ import annotations

from datetime import timedelta

import pytest

from collector.accounts import creditor
from collector.core.clock import local_today
from collector.direct_debit import collection_runs
from collector.documents.models import DocumentKind, Invoice, InvoiceState
from collector.documents.profiles import create_profile
from collector.extensions import db
from collector.mail import invitations
from collector.mail import jobs as mail_jobs
from collector.runtime import setup as runtime_setup
from collector.teamleader import imports
from collector.teamleader import jobs as teamleader_jobs
from collector.teamleader.models import ImportSource
from tests.e2e import conftest as e2e
from tests.support import sepa
from tests.support.factories import make_invoice, make_mandate
from tests.support.sepa import sequence_types

# The end-to-end fixtures (their conftest serves only tests/e2e): the emulator on a real
# port, the app pointed at it, a connection made through its OAuth pages.
sandbox, tl_app, connection = e2e.sandbox, e2e.tl_app, e2e.connection

SCHEMA = sepa.schema()


@pytest.fixture
def sandbox_config():
    return {"SEED": 5, "INVOICE_COUNT": 30, "RATE_LIMIT": 100_000}


def invite(invoice_ids: list[int]) -> None:
    invitations.request_invitations(invoice_ids, actor="test")
    mail_jobs.deliver_mail()


def test_a_run_over_sandbox_data_is_frst_first_and_rcur_after(tl_app, connection, smtp_server):
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
    db.session.commit()
    today = local_today()
    imp = imports.create_import(
        ImportSource.CLI, date_from=today - timedelta(days=30), date_to=today
    )
    teamleader_jobs.run_import(imp.id)

    owed = db.session.scalars(
        db.select(Invoice)
        .where(Invoice.kind == DocumentKind.INVOICE, Invoice.amount_due > 0)
        .where(Invoice.state.in_([InvoiceState.BOOKED, InvoiceState.EXPIRED]))
        .where(Invoice.profile_id == profile.id)
        .order_by(Invoice.id)
    ).all()
    owed = [i for i in owed if i.customer.email]
    assert len(owed) >= 2, "the sandbox seed should give open invoices with an email address"
    for customer in {i.customer for i in owed}:
        make_mandate(customer=customer, profile=profile)
    invite([i.id for i in owed])
    assert len(smtp_server.messages) == len(owed)
    assert all("SEPA" in m.get_body(("plain",)).get_content() for m in smtp_server.messages)

    store = runtime_setup.document_store(tl_app)
    until = today + timedelta(days=90)
    first = collection_runs.create_run(store, today, until, "CORE", "test")
    content = collection_runs.file(first, store)
    SCHEMA.validate(content.decode())
    assert first.count == len(owed)
    assert set(sequence_types(content).values()) == {"FRST"}
    assert all(db.session.get(Invoice, i.id).state == InvoiceState.PENDING for i in owed)
    collection_runs.mark_sent(first, "test")

    customer = owed[0].customer
    later = make_invoice(customer=customer, profile=profile, invoice_date=today, due_date=today)
    invite([later.id])
    second = collection_runs.create_run(store, today, until, "CORE", "test")
    content = collection_runs.file(second, store)
    SCHEMA.validate(content.decode())
    assert sequence_types(content) == {f"DD-{second.id}-{later.id}": "RCUR"}
