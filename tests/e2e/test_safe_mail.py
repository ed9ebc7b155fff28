"""Issue 19, safe automatic mail: a backfill import of a year on a "Payment link" profile
says what it would mail before it starts, mails nothing overdue or old, lists what it
held back, and sends exactly the held invitations a person ticks — counted at a real
SMTP server, run by a real rq worker. Automatic imports hold the same way."""

import re
from datetime import timedelta

import pytest
from rq import SimpleWorker

from collector.core.clock import local_today
from collector.core.columns import utcnow
from collector.core.errors import Invalid
from collector.documents.models import (
    DocumentMail,
    DocumentMailStatus,
    Invoice,
)
from collector.documents.profiles import create_profile
from collector.dunning import steps
from collector.dunning.models import StepKind
from collector.extensions import db
from collector.mail import jobs as mail_jobs
from collector.mail import reminders
from collector.runtime.queue import QUEUES, bind_job_class
from collector.teamleader import imports, notifications
from collector.teamleader import jobs as teamleader_jobs
from collector.teamleader import setup as teamleader_setup
from collector.teamleader.connection import update_settings
from collector.teamleader.models import DocumentImport, ImportSource
from tests.conftest import csrf_token


@pytest.fixture
def sandbox_config():
    return {"SEED": 5, "INVOICE_COUNT": 60, "RATE_LIMIT": 100_000}


@pytest.fixture
def payment_link(tl_app, connection, smtp_server):
    """Mail to the SMTP test server; a "Payment link" profile that invites on import,
    the default for new customers."""
    tl_app.config.update(
        TEAMLEADER_RATE_LIMIT=100_000,
        MAIL_HOST=smtp_server.host,
        MAIL_PORT=smtp_server.port,
        MAIL_SECURITY="none",
        MAIL_FROM="billing@collector.example",
        PUBLIC_BASE_URL="https://pay.collector.example",
    )
    profile = create_profile(
        {
            "name": "Payment link",
            "allow_payment_link": True,
            "allow_bank_transfer": True,
            "send_invitation_on_import": True,
        }
    )
    steps.replace_steps(profile, [(StepKind.REMINDER, 7)])
    connection.default_profile_id = profile.id
    db.session.commit()
    return profile


def work(app, redis_conn) -> None:
    """What a real worker does with the queues: every job, until none is left."""
    SimpleWorker(QUEUES, connection=redis_conn, job_class=bind_job_class(app)).work(burst=True)


def figure(html: str, name: str) -> int:
    found = re.search(rf'data-count="{name}">(\d+)', html)
    assert found, f"no {name} figure on the page"
    return int(found.group(1))


def to_customers(smtp_server) -> list[str]:
    """Who the invitations went to (the import's summary goes to the admin, not counted)."""
    return sorted(m["To"] for m in smtp_server.messages if m["To"] != "admin@example.com")


def rows(status: DocumentMailStatus) -> list[DocumentMail]:
    query = db.select(DocumentMail).where(DocumentMail.status == status).order_by(DocumentMail.id)
    return list(db.session.scalars(query))


def test_a_year_backfill_mails_nothing_old_until_a_person_sends_exactly_the_chosen_ones(
    tl_app, payment_link, admin_client, smtp_server, redis_conn
):
    today = local_today()
    year = {"date_from": (today - timedelta(days=365)).isoformat(), "date_to": today.isoformat()}

    # The dialog counts first; nothing is imported or sent by counting.
    token = csrf_token(admin_client, "/imports/")
    page = admin_client.post("/imports/", data={**year, "csrf_token": token})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    preview = {n: figure(html, n) for n in ("invitations", "held", "reminders")}
    assert preview["held"] > 0, "a year of sandbox invoices holds overdue ones"
    assert 'name="step" type="hidden" value="start"' in html
    assert db.session.scalar(db.select(db.func.count(DocumentImport.id))) == 0
    assert smtp_server.messages == []

    # The person starts it; a real worker runs the import and the mail it makes owed.
    response = admin_client.post("/imports/", data={**year, "step": "start", "csrf_token": token})
    assert response.status_code == 302
    work(tl_app, redis_conn)
    db.session.expire_all()

    imp = db.session.scalars(db.select(DocumentImport)).one()
    assert imp.mail_old_documents is False
    held = rows(DocumentMailStatus.HELD)
    sent = rows(DocumentMailStatus.SENT)
    # What the dialog said is what happened (the sandbox names no other profile).
    assert len(held) == preview["held"]
    assert len(sent) + len(rows(DocumentMailStatus.CANCELLED)) == preview["invitations"]
    for row in held:
        invoice = row.invoice
        assert invoice.due_date < today or invoice.invoice_date < today - timedelta(days=14)
    for row in sent:
        invoice = row.invoice
        assert invoice.due_date >= today and invoice.invoice_date >= today - timedelta(days=14)
    assert to_customers(smtp_server) == sorted(r.recipient for r in sent)
    before = len(smtp_server.messages)

    # The summary mailed to the person says so too.
    [summary] = [m for m in smtp_server.messages if m["To"] == "admin@example.com"]
    text = summary.get_body(("plain",)).get_content()
    assert f"{len(held)} invitations were held back (overdue or older)" in text

    # The reminder run sends nothing for what is held, as the dialog said.
    assert preview["reminders"] == 0
    assert reminders.queue_reminders(today) == 0

    # The result page lists what was sent and what was held, with a button that asks.
    result = admin_client.get(f"/imports/{imp.id}").get_data(as_text=True)
    assert f'data-mail="held">{len(held)}<' in result
    assert f'data-mail="sent">{len(sent)}<' in result
    for row in held:
        assert f'data-held="{row.id}"' in result
    for row in sent:
        assert f'data-sent="{row.id}"' in result
    assert re.search(r'<form method="post" action="/mail/held/send"[^>]*data-confirm=', result)

    # Without the CSRF token nothing is sent.
    chosen = [r for r in held if r.invoice.customer.email][:2]
    assert len(chosen) == 2
    ids = [str(r.id) for r in chosen]
    refused = admin_client.post("/mail/held/send", data={"ids": ids})
    assert refused.status_code == 400
    work(tl_app, redis_conn)
    assert len(smtp_server.messages) == before

    # The person ticks two: exactly those two go out, the rest stay held.
    back = f"/imports/{imp.id}"
    token = csrf_token(admin_client, back)
    response = admin_client.post(
        "/mail/held/send", data={"ids": ids, "back": back, "csrf_token": token}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == back
    work(tl_app, redis_conn)
    db.session.expire_all()

    new = smtp_server.messages[before:]
    assert sorted(m["To"] for m in new) == sorted(r.invoice.customer.email for r in chosen)
    for message in new:
        body = message.get_body(("plain",)).get_content()
        assert "https://pay.collector.example/pay/" in body
    assert {r.id for r in rows(DocumentMailStatus.HELD)} == {r.id for r in held} - {
        r.id for r in chosen
    }
    # Sending the same two again sends nothing more.
    admin_client.post("/mail/held/send", data={"ids": ids, "back": back, "csrf_token": token})
    work(tl_app, redis_conn)
    assert len(smtp_server.messages) == before + 2


def test_webhooks_and_the_sweep_hold_old_invoices_and_show_them_for_release(
    tl_app, payment_link, connection, admin_client, smtp_server, sandbox
):
    connection.auto_import = True
    db.session.commit()
    today = local_today()
    client = teamleader_setup.client(tl_app, connection, sleep=lambda seconds: None)
    # Two invoices booked in Teamleader 40 days back with 30 days to pay: already overdue.
    late = {"amount": 80, "invoice_date": (today - timedelta(days=40)).isoformat()}
    late["payment_term"] = {"type": "after_invoice_date", "days": 30}
    by_webhook = sandbox.control("POST", "invoices", json=late)["data"]
    # One announced by Teamleader's webhook, handled as the delivery job does …
    body = {
        "type": "invoice.booked",
        "subject": {"type": "invoice", "id": by_webhook["id"]},
        "account": {"type": "account", "id": connection.account_id},
    }
    notifications.handle_delivery(client, notifications.receive(connection.webhook_token, body))
    # … and one no webhook announced, found by the periodic sweep.
    connection.last_swept_at = utcnow()
    db.session.commit()
    by_sweep = sandbox.control("POST", "invoices", json=late)["data"]
    notifications.sweep(client, connection, utcnow())
    mail_jobs.deliver_mail()

    # The sweep also brought the sandbox's recent invoices: those were mailed, as before.
    held, sent = rows(DocumentMailStatus.HELD), rows(DocumentMailStatus.SENT)
    assert sorted(r.invoice.teamleader_id for r in held) == sorted(
        [by_webhook["id"], by_sweep["id"]]
    )
    assert {r.invoice.document_import.source for r in held} == {
        ImportSource.WEBHOOK,
        ImportSource.SWEEP,
    }
    assert to_customers(smtp_server) == sorted(r.recipient for r in sent)
    assert all(r.invoice.due_date >= today for r in sent)
    page = admin_client.get("/mail/held").text
    for row in held:
        assert f'data-held="{row.id}"' in page
    imports_page = admin_client.get("/imports/").text
    assert f"{len(held)} invitations from imports are held back." in imports_page
    for row in held:
        result = admin_client.get(f"/imports/{row.invoice.import_id}").text
        assert f'data-held="{row.id}"' in result
        [event] = [e for e in row.invoice.events if e.kind == "mail_held"]
        assert "already overdue" in event.message


def test_opting_in_mails_the_old_ones_too(tl_app, payment_link, smtp_server):
    today = local_today()
    imp = imports.create_import(
        ImportSource.CLI,
        date_from=today - timedelta(days=365),
        date_to=today,
        mail_old_documents=True,
    )
    teamleader_jobs.run_import(imp.id)
    mail_jobs.deliver_mail()

    assert rows(DocumentMailStatus.HELD) == []
    sent = rows(DocumentMailStatus.SENT)
    assert any(r.invoice.due_date < today for r in sent)
    assert len(smtp_server.messages) == len(sent)


def test_the_age_is_a_setting_of_the_connection(tl_app, payment_link, connection, smtp_server):
    settings = {
        "import_department_ids": connection.import_department_ids,
        "default_profile_id": payment_link.id,
    }
    with pytest.raises(Invalid) as refused:
        update_settings(connection, {**settings, "hold_mail_after_days": 366})
    assert refused.value.errors == {
        "hold_mail_after_days": ["Give a number of days from 0 to 365."]
    }
    db.session.rollback()
    assert connection.hold_mail_after_days == 14
    update_settings(connection, {**settings, "hold_mail_after_days": 0})
    today = local_today()
    imp = imports.create_import(
        ImportSource.CLI, date_from=today - timedelta(days=365), date_to=today
    )
    teamleader_jobs.run_import(imp.id)

    owed = db.session.scalars(
        db.select(DocumentMail).where(DocumentMail.status != DocumentMailStatus.HELD)
    ).all()
    assert all(r.invoice.invoice_date >= today for r in owed)
    held = rows(DocumentMailStatus.HELD)
    assert any(r.invoice.invoice_date < today and r.invoice.due_date >= today for r in held)
    assert db.session.scalar(db.select(db.func.count(Invoice.id))) > 0


def test_the_dialog_counts_the_reminders_an_import_would_cause(
    tl_app, payment_link, admin_client, smtp_server
):
    # A profile that invites by hand only, but reminds: the import holds no invitation,
    # and the next reminder run chases what is 7 to 21 days late.
    payment_link.send_invitation_on_import = False
    db.session.commit()
    today = local_today()
    year = {"date_from": (today - timedelta(days=365)).isoformat(), "date_to": today.isoformat()}
    token = csrf_token(admin_client, "/imports/")
    html = admin_client.post("/imports/", data={**year, "csrf_token": token}).text
    preview = {n: figure(html, n) for n in ("invitations", "held", "reminders")}
    assert preview["invitations"] == preview["held"] == 0
    assert preview["reminders"] > 0, "the sandbox seed should hold invoices 7-21 days late"

    imp = imports.create_import(
        ImportSource.MANUAL, date_from=today - timedelta(days=365), date_to=today
    )
    teamleader_jobs.run_import(imp.id)

    assert reminders.queue_reminders(today) == preview["reminders"]
