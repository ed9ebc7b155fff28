"""Screenshots of the safe-mail pages (not part of the suite: deleted after use)."""

from datetime import timedelta
from pathlib import Path

import pytest

from collector.core.clock import local_today
from collector.documents.models import DocumentMail, DocumentMailStatus, Invoice, InvoiceState
from collector.documents.profiles import create_profile
from collector.extensions import db
from collector.mail import jobs as mail_jobs
from collector.teamleader import imports
from collector.teamleader import jobs as teamleader_jobs
from collector.teamleader.models import ImportSource
from tests.support.browser import browser, live_server, log_in, page  # noqa: F401

OUT = Path("/work/helpers/shots/safemail")


@pytest.fixture
def sandbox_config():
    return {"SEED": 5, "INVOICE_COUNT": 60, "RATE_LIMIT": 100_000}


def test_shots(tl_app, connection, smtp_server, admin, live_server, page):  # noqa: F811
    tl_app.config.update(
        TEAMLEADER_RATE_LIMIT=100_000,
        MAIL_HOST=smtp_server.host,
        MAIL_PORT=smtp_server.port,
        MAIL_SECURITY="none",
        MAIL_FROM="billing@collector.example",
    )
    profile = create_profile(
        {
            "name": "Payment link",
            "allow_payment_link": True,
            "allow_bank_transfer": True,
            "send_invitation_on_import": True,
            "reminder_days": [7],
        }
    )
    connection.default_profile_id = profile.id
    db.session.commit()
    today = local_today()
    imp = imports.create_import(
        ImportSource.CLI, date_from=today - timedelta(days=365), date_to=today
    )
    teamleader_jobs.run_import(imp.id)
    mail_jobs.deliver_mail()
    # one waiting invitation so the dry run has something
    held = db.session.scalars(
        db.select(DocumentMail).where(DocumentMail.status == DocumentMailStatus.HELD)
    ).all()
    held[0].status = DocumentMailStatus.WAITING
    db.session.commit()
    paid = db.session.scalars(db.select(Invoice).where(Invoice.state == InvoiceState.PAID)).first()

    log_in(page, live_server, admin.email)
    for lang, locale in (("en", "en"), ("nl", "nl_BE"), ("fr", "fr_BE")):
        admin.locale = locale
        db.session.commit()
        for width in (1366, 390):
            page.set_viewport_size({"width": width, "height": 900})
            shots = {
                "import-dialog": "/imports/",
                "import-result": f"/imports/{imp.id}",
                "held": "/mail/held",
                "upcoming": "/mail/upcoming",
                "settings": "/integrations/teamleader",
            }
            if paid is not None:
                shots["paid-document"] = f"/invoices/{paid.id}"
            for name, path in shots.items():
                page.goto(live_server + path)
                page.screenshot(path=str(OUT / f"{name}-{lang}-{width}.png"), full_page=True)
            page.goto(live_server + "/imports/")
            page.fill("#date_from", (today - timedelta(days=365)).isoformat())
            page.locator("form[data-import-form] button[type=submit]").click()
            page.wait_for_selector("[data-preview]")
            page.screenshot(path=str(OUT / f"import-preview-{lang}-{width}.png"), full_page=True)
