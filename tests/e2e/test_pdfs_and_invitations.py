"""PDFs fetched from the sandbox on schedule and by hand, refused when they are not what
they should be, and invitations that wait for them: counted at a real SMTP server."""

from datetime import timedelta

import pytest

from collector.core.clock import local_today
from collector.core.columns import utcnow
from collector.documents import timeline
from collector.documents.models import (
    DocumentKind,
    DocumentMail,
    DocumentMailStatus,
    Invoice,
    InvoiceEvent,
    InvoiceState,
)
from collector.documents.profiles import create_profile
from collector.extensions import db
from collector.mail import invitations
from collector.mail import jobs as mail_jobs
from collector.runtime import setup as runtime_setup
from collector.teamleader import imports, pdfs
from collector.teamleader import jobs as teamleader_jobs
from collector.teamleader import setup as teamleader_setup
from collector.teamleader.models import ImportSource

PDF_MAX = 64 * 1024


@pytest.fixture
def sandbox_config():
    return {"SEED": 5, "INVOICE_COUNT": 30, "RATE_LIMIT": 100_000}


def setup(tl_app, connection, smtp_server, **profile):
    tl_app.config.update(
        TEAMLEADER_RATE_LIMIT=100_000,
        MAIL_HOST=smtp_server.host,
        MAIL_PORT=smtp_server.port,
        MAIL_SECURITY="none",
        MAIL_FROM="billing@collector.example",
        PDF_MAX_BYTES=PDF_MAX,
        PUBLIC_BASE_URL="https://pay.collector.example",
    )
    chosen = create_profile({"name": "Invited", "allow_bank_transfer": True, **profile})
    connection.default_profile_id = chosen.id
    db.session.commit()
    return chosen


def import_last_30_days():
    today = local_today()
    # Opted in: these tests are about PDFs and invitations, not about what an import holds
    # back (tests/e2e/test_safe_mail.py).
    imp = imports.create_import(
        ImportSource.CLI,
        date_from=today - timedelta(days=30),
        date_to=today,
        mail_old_documents=True,
    )
    teamleader_jobs.run_import(imp.id)
    return imp


def invitable() -> list[Invoice]:
    return list(
        db.session.scalars(
            db.select(Invoice)
            .where(Invoice.kind == DocumentKind.INVOICE, Invoice.amount_due > 0)
            .where(Invoice.state.in_([InvoiceState.BOOKED, InvoiceState.EXPIRED]))
            .order_by(Invoice.id)
        )
    )


def with_email(invoices: list[Invoice]) -> list[Invoice]:
    return [i for i in invoices if i.customer.email]


def test_invitations_that_need_the_pdf_go_out_when_the_schedule_fetches_it(
    tl_app, connection, smtp_server
):
    setup(
        tl_app,
        connection,
        smtp_server,
        send_invitation_on_import=True,
        invitation_requires_pdf=True,
    )
    import_last_30_days()
    owed = with_email(invitable())
    assert owed, "the sandbox data should hold open invoices"

    mail_jobs.deliver_mail()
    assert smtp_server.messages == []  # nothing at import: the PDFs are not there yet

    tl_app.config["PDF_BATCH_SIZE"] = 1000
    teamleader_jobs.fetch_scheduled_pdfs()

    assert db.session.scalar(db.select(db.func.count()).where(Invoice.pdf_key.is_(None))) == 0
    received = sorted(m["To"] for m in smtp_server.messages)
    assert received == sorted(i.customer.email for i in owed)
    for message in smtp_server.messages:
        [pdf] = list(message.iter_attachments())
        assert pdf.get_content().startswith(b"%PDF-")

    teamleader_jobs.fetch_scheduled_pdfs()
    mail_jobs.deliver_mail()
    assert len(smtp_server.messages) == len(owed)


def test_a_pdf_fetched_by_hand_sends_its_waiting_invitation_once(
    tl_app, connection, smtp_server, admin
):
    setup(
        tl_app,
        connection,
        smtp_server,
        send_invitation_on_import=True,
        invitation_requires_pdf=True,
    )
    import_last_30_days()
    first = with_email(invitable())[0]

    teamleader_jobs.fetch_pdfs([first.id], f"user:{admin.email}")
    teamleader_jobs.fetch_pdfs([first.id], f"user:{admin.email}")

    [message] = smtp_server.messages
    assert message["To"] == first.customer.email
    body = message.get_body(("plain",)).get_content()
    assert f"https://pay.collector.example/pay/{first.payment_token}" in body
    sent = db.session.scalars(db.select(DocumentMail).filter_by(invoice_id=first.id)).one()
    assert sent.status == DocumentMailStatus.SENT


def test_without_the_pdf_condition_the_invitation_goes_at_import(tl_app, connection, smtp_server):
    setup(tl_app, connection, smtp_server, send_invitation_on_import=True)
    import_last_30_days()
    owed = with_email(invitable())
    assert owed, "the sandbox data should hold open invoices to customers with an address"

    mail_jobs.deliver_mail()

    assert sorted(m["To"] for m in smtp_server.messages) == sorted(i.customer.email for i in owed)
    assert all(not list(m.iter_attachments()) for m in smtp_server.messages)
    mail_jobs.deliver_mail()
    teamleader_jobs.fetch_scheduled_pdfs()
    assert len(smtp_server.messages) == len(owed)


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ({"kind": "expired"}, "expired or refused (HTTP 403)"),
        ({"kind": "not_pdf"}, "not a PDF"),
        ({"kind": "oversized", "bytes": PDF_MAX * 2}, f"larger than {PDF_MAX}"),
        ({"kind": "foreign_host"}, "files.invalid"),
    ],
)
def test_a_spoiled_download_is_refused_with_an_event_and_retried_later(
    tl_app, connection, smtp_server, sandbox, fault, reason
):
    setup(tl_app, connection, smtp_server)
    import_last_30_days()
    oldest = pdfs.due_for_pdf(1, utcnow())
    sandbox.control("POST", "files/faults", json={**fault, "count": 1})

    teamleader_jobs.fetch_pdfs(oldest, "test")

    invoice = db.session.get(Invoice, oldest[0])
    db.session.refresh(invoice)
    assert invoice.pdf_key is None and invoice.pdf_failures == 1
    [event] = db.session.scalars(
        db.select(InvoiceEvent).filter_by(invoice_id=invoice.id, kind=timeline.PDF_REFUSED)
    )
    assert reason in event.message
    assert "_files" not in event.message  # the location's path is never written down
    # Not again on the next scheduled run, but once its back-off has passed.
    assert oldest[0] not in pdfs.due_for_pdf(1000, utcnow())
    later = invoice.pdf_retry_at + timedelta(seconds=1)
    assert pdfs.due_for_pdf(1, later) == oldest

    client = teamleader_setup.client(tl_app, connection)
    result = pdfs.fetch_pdfs(
        client,
        teamleader_setup.file_fetcher(tl_app),
        runtime_setup.document_store(tl_app),
        pdfs.due_for_pdf(1, later),
        actor="test",
    )
    assert result.fetched == oldest
    db.session.refresh(invoice)
    assert invoice.pdf_key and invoice.pdf_failures == 0 and invoice.pdf_retry_at is None


def test_an_outage_stops_the_run_without_blaming_the_documents(
    tl_app, connection, smtp_server, sandbox
):
    setup(tl_app, connection, smtp_server)
    import_last_30_days()
    sandbox.control("POST", "faults", json={"kind": "error", "status": 503, "count": 50})
    client = teamleader_setup.client(tl_app, connection, max_retries=0)
    ids = pdfs.due_for_pdf(5, utcnow())

    result = pdfs.fetch_pdfs(
        client,
        teamleader_setup.file_fetcher(tl_app),
        runtime_setup.document_store(tl_app),
        ids,
        actor="t",
    )

    assert result.fetched == [] and result.refused == {} and "Unavailable" in result.stopped
    assert pdfs.due_for_pdf(5, utcnow()) == ids
    assert invitations.deliverable(utcnow()) == []


def test_send_invitation_by_hand_fetches_the_pdf_first_and_asks_before_twice(
    tl_app, connection, smtp_server, admin
):
    setup(tl_app, connection, smtp_server, invitation_requires_pdf=False)
    import_last_30_days()
    first = with_email(invitable())[0]
    actor = f"user:{admin.email}"

    assert (
        mail_jobs.send_invitations([first.id], actor)
        == "1 invitation(s) sent, 0 sent before and not again"
    )
    assert (
        mail_jobs.send_invitations([first.id], actor)
        == "0 invitation(s) sent, 1 sent before and not again"
    )
    assert mail_jobs.send_invitations([first.id], actor, True).startswith("1 invitation(s) sent")

    assert [m["To"] for m in smtp_server.messages] == [first.customer.email] * 2
    assert all(len(list(m.iter_attachments())) == 1 for m in smtp_server.messages)
    keys = db.session.scalars(db.select(DocumentMail.key).filter_by(invoice_id=first.id)).all()
    assert sorted(keys) == ["invitation", "invitation:again:2"]


NO_IDS = "give a non-empty list of document ids"
BAD_IDS = "document ids must be positive whole numbers"
NO_ACTOR = "actor must be a non-empty string"


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (([], "u"), NO_IDS),
        (("1", "u"), NO_IDS),
        ((["1"], "u"), BAD_IDS),
        (([0], "u"), BAD_IDS),
        (([True], "u"), BAD_IDS),
        (([1], ""), NO_ACTOR),
        (([1], None), NO_ACTOR),
    ],
)
def test_bad_job_arguments_are_refused_before_anything_is_written(app, args, reason):
    with pytest.raises(ValueError, match=reason):
        mail_jobs.send_invitations(*args)
    with pytest.raises(ValueError, match=reason):
        teamleader_jobs.fetch_pdfs(*args)
    assert db.session.scalar(db.select(db.func.count()).select_from(DocumentMail)) == 0
