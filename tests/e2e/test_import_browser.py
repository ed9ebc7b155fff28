"""An import in a real browser: the dialog, the progress bar, the result, the
documents on the overview, and deleting the import again."""

import pytest
from playwright.sync_api import expect

from collector.documents.models import Invoice
from collector.documents.profiles import create_profile
from collector.extensions import db
from collector.runtime.inline import InlineBackend
from collector.teamleader.models import DocumentImport, ImportStatus
from tests.support.browser import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def sandbox_config():
    return {"SEED": 9, "INVOICE_COUNT": 40, "RATE_LIMIT": 100_000}


@pytest.fixture
def inline_jobs(tl_app):
    """Jobs in a thread of the live server, as `make run` does without Redis."""
    jobs = tl_app.extensions["jobs"]
    saved, jobs.backend = jobs.backend, InlineBackend()
    yield
    jobs.backend.pool.shutdown(wait=True)
    jobs.backend = saved


def test_import_watch_it_finish_see_the_documents_and_delete_it(
    page, tl_app, live_server, sandbox, connection, admin, inline_jobs
):
    tl_app.config["TEAMLEADER_RATE_LIMIT"] = 100_000
    connection.default_profile_id = create_profile(
        {"name": "Standard", "allow_bank_transfer": True}
    ).id
    db.session.commit()
    log_in(page, live_server, admin.email)

    page.get_by_role("link", name="Imports").click()
    page.get_by_role("button", name="Check what it would mail").click()
    expect(page.locator("[data-preview]")).to_contain_text("invitations held for you")
    page.get_by_role("button", name="Start the import").click()

    expect(page.locator('dd[data-count="imported"]')).to_be_visible(timeout=20_000)
    imp = db.session.scalars(db.select(DocumentImport)).one()
    db.session.refresh(imp)
    assert imp.status == ImportStatus.FINISHED
    imported = db.session.scalar(db.select(db.func.count(Invoice.id)))
    assert imported > 0
    expect(page.locator('dd[data-count="imported"]')).to_have_text(str(imported))

    page.get_by_role("link", name="Invoices").click()
    invoice = db.session.scalars(db.select(Invoice).order_by(Invoice.invoice_date.desc())).first()
    page.get_by_role("link", name=invoice.number, exact=True).first.click()
    expect(page.get_by_text("Imported on profile “Standard”").first).to_be_visible()

    page.goto(f"{live_server}/imports/{imp.id}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete this import").click()
    expect(page.get_by_role("status")).to_contain_text(f"{imported} documents removed")
    assert db.session.scalar(db.select(db.func.count(Invoice.id))) == 0
