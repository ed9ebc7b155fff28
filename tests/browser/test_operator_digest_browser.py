"""The admins' digest as the demo's outbox shows it (no SMTP server: the mail sink), in
English, Dutch and French. With ``COLLECTOR_SHOTS`` set to a folder, the outbox and the
digest are saved there as PNGs at 1366 and 390 px wide."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from collector.accounts import jobs as accounts_jobs
from collector.accounts import users
from collector.extensions import db
from collector.mail.models import MailMessage
from collector.runtime import operator_alerts

pytestmark = pytest.mark.browser

LANGUAGES = {"en": "en-GB", "nl": "nl-BE", "fr": "fr-BE"}
PICKED = {"en": None, "nl": "nl_BE", "fr": "fr_BE"}  # what each admin picked in the UI
READS = {
    "en": "Documents Exact Online keeps refusing",
    "nl": "Documenten die Exact Online blijft weigeren",
    "fr": "Documents qu'Exact Online continue de refuser",
}


def test_the_digest_in_the_outbox_in_each_language(app, live_server, browser, clock, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://collector.example")
    # The mail sink, whatever SMTP server a test before this one left configured.
    monkeypatch.setitem(app.config, "MAIL_HOST", "")
    admins = {
        short: users.set_locale(
            users.create_user(f"{short}@example.com", "correct horse battery", "admin"),
            PICKED[short],
        )
        for short in LANGUAGES
    }
    for _ in range(12):
        clock.advance(minutes=4)
        operator_alerts.record(
            operator_alerts.JOB_FAILED,
            "fetch_scheduled_pdfs",
            "Unavailable: Teamleader answered 503",
            "job_runs.index",
        )
    operator_alerts.record(
        operator_alerts.EXACT_REFUSED,
        "2026/0042",
        "Exact Online refused the entry: the VAT code 5 is blocked",
        "exact.index",
    )
    operator_alerts.record(
        operator_alerts.CONNECTION,
        "Teamleader",
        "Teamleader refused the refresh token; connect again.",
        "integrations.teamleader",
    )
    db.session.commit()
    accounts_jobs.send_operator_digest()

    folder = os.environ.get("COLLECTOR_SHOTS")
    for short, language in LANGUAGES.items():
        mail = db.session.scalar(
            db.select(MailMessage).where(MailMessage.recipient == admins[short].email)
        )
        context = browser.new_context(locale=language)
        page = context.new_page()
        page.goto(f"{live_server}/login")
        page.locator("#email").fill(admins[short].email)
        page.locator("#password").fill("correct horse battery")
        page.locator("form button.primary").click()
        expect(page.locator(".who")).to_be_attached()
        for name, path in (("outbox", "/outbox/"), ("digest", f"/outbox/{mail.id}")):
            for width in (1366, 390):
                page.set_viewport_size({"width": width, "height": 800})
                assert page.goto(live_server + path).status == 200
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                if folder:
                    Path(folder).mkdir(parents=True, exist_ok=True)
                    shot = Path(folder) / f"{name}-{short}-{width}.png"
                    page.screenshot(path=str(shot), full_page=True)
        expect(page.locator("body")).to_contain_text(READS[short])
        context.close()
