"""End-to-end fixtures: the sandbox emulators on a real port, and a connection
made through their real OAuth pages."""

import threading
from datetime import timedelta

import pytest
import requests
from werkzeug.serving import make_server

from collector.core.clock import local_today
from collector.documents import ledger
from collector.documents.models import DocumentKind, Invoice
from collector.documents.profiles import create_profile
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from collector.teamleader import connection as teamleader_connection
from collector.teamleader import imports
from collector.teamleader import jobs as teamleader_jobs
from collector.teamleader import setup as teamleader_setup
from collector.teamleader.models import ImportSource
from sandbox import provider as provider_sandbox
from sandbox import teamleader as tl_sandbox
from sandbox.teamleader.consent import authorization_code


class Sandbox:
    """A running Teamleader emulator and its control API."""

    def __init__(self, base_url: str, app=None):
        self.url = base_url
        self.app = app
        self.http = requests.Session()

    @property
    def data(self):
        """The emulator's dataset, read directly: the ground truth tests compare with."""
        return self.app.extensions["teamleader_emulator"].store.data

    def control(self, method: str, path: str, **kwargs):
        response = self.http.request(method, f"{self.url}/_control/{path}", timeout=10, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def calls(self) -> dict:
        return self.control("GET", "calls")["data"]

    def reset_calls(self) -> None:
        self.control("DELETE", "calls")


def serve(wsgi_app):
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture
def sandbox_config():
    """Override in a test module to change the emulator's configuration."""
    return {"SEED": 7, "INVOICE_COUNT": 20}


@pytest.fixture
def sandbox(sandbox_config):
    sandbox_app = tl_sandbox.create_app(sandbox_config)
    server, thread = serve(sandbox_app)
    yield Sandbox(f"http://127.0.0.1:{server.server_port}", sandbox_app)
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def provider():
    """The payment provider's emulator on a real port (its control API via ``control``)."""
    # The app under test listens on 127.0.0.1, which real Mollie would refuse.
    app = provider_sandbox.create_app({"ALLOW_LOCAL_WEBHOOKS": True})
    server, thread = serve(app)
    yield Sandbox(f"http://127.0.0.1:{server.server_port}", app)
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def tl_app(app, sandbox):
    """The app pointed at the sandbox (its config is restored afterwards)."""
    saved = dict(app.config)
    app.config.update(
        TEAMLEADER_AUTH_URL=sandbox.url,
        TEAMLEADER_API_URL=sandbox.url,
        TEAMLEADER_CLIENT_ID="collector-sandbox",
        TEAMLEADER_CLIENT_SECRET="sandbox-secret",
    )
    yield app
    app.config.clear()
    app.config.update(saved)


def grant_code(app, state: str = "s") -> str:
    """A code from the sandbox's authorize page, "Grant access" pressed."""
    return authorization_code(teamleader_setup.oauth(app).authorize_url(state))


@pytest.fixture
def connection(tl_app, admin):
    """A Teamleader connection made through the sandbox's real OAuth flow."""
    return teamleader_connection.complete_connect(
        teamleader_setup.oauth(tl_app),
        teamleader_setup.client_factory(tl_app),
        runtime_setup.cipher(tl_app),
        grant_code(tl_app),
        admin,
        tl_app.config["PUBLIC_BASE_URL"],
    )


@pytest.fixture
def open_invoice(tl_app, connection, sandbox):
    """An imported, unpaid invoice on a profile that may pay online, with strict mode
    confirmed and a Teamleader payment method chosen."""
    tl_app.config.update(TEAMLEADER_RATE_LIMIT=100_000, TEAMLEADER_RATE_WINDOW=60.0)
    profile = create_profile(
        {"name": "Online", "allow_payment_link": True, "allow_bank_transfer": True}
    )
    connection.default_profile_id = profile.id
    connection.strict_mode_confirmed = True
    connection.payment_method_id = connection.payment_methods[0]["id"]
    db.session.commit()
    today = local_today()
    imp = imports.create_import(
        ImportSource.CLI, date_from=today - timedelta(days=30), date_to=today
    )
    teamleader_jobs.run_import(imp.id)
    open_here = db.session.scalars(
        db.select(Invoice)
        .where(
            Invoice.kind == DocumentKind.INVOICE,
            Invoice.state.in_(ledger.OPEN),
            Invoice.amount_due > 0,
        )
        .order_by(Invoice.id)
    ).all()
    # Which generated invoices fall in the 30 days depends on the day: take the first
    # with no payment in Teamleader either.
    untouched = [i for i in open_here if not sandbox.data.invoices[i.teamleader_id]["payments"]]
    assert untouched, "the sandbox seed should give an open invoice without payments"
    return untouched[0]


@pytest.fixture
def three_open(open_invoice, sandbox):
    """Three open invoices of one customer, none paid in Teamleader: the first imported
    one's customer gets two more of the sandbox's open invoices moved to them."""
    customer = open_invoice.customer
    others = db.session.scalars(
        db.select(Invoice)
        .where(
            Invoice.kind == DocumentKind.INVOICE,
            Invoice.state.in_(ledger.OPEN),
            Invoice.amount_due > 0,
            Invoice.id != open_invoice.id,
            Invoice.currency == open_invoice.currency,
        )
        .order_by(Invoice.id)
    ).all()
    untouched = [i for i in others if not sandbox.data.invoices[i.teamleader_id]["payments"]]
    assert len(untouched) >= 2
    for invoice in untouched[:2]:
        invoice.customer = customer
        invoice.profile = open_invoice.profile
    db.session.commit()
    return [open_invoice, *untouched[:2]]
