"""The account the scenarios play in, set up as an admin would before the faults start:
the schema migrated, Teamleader connected through the sandbox's OAuth page, a profile that
offers paying online and sends invitations, strict mode confirmed with a payment method,
the last 30 days imported, an admin who logs in through the form.

Each scenario takes invoices of its own (``World.take``) and older date ranges of its
own to import (``World.ranges``), so what one scenario counts is never another's doing.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import SimpleNamespace

import flask_migrate
import requests

from collector import create_app
from collector.accounts import creditor, users
from collector.core import clock
from collector.documents import profiles
from collector.documents.models import Profile
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from collector.teamleader import connection as teamleader_connection
from collector.teamleader import imports
from collector.teamleader import setup as teamleader_setup
from collector.teamleader.models import ImportSource
from faults import probes
from faults.browser import Browser
from faults.stack import Stack
from sandbox.teamleader.consent import authorization_code

SEED = 7
# About 380 booked invoices and 40 credit notes per 30 days: each import is a few hundred.
INVOICES = 1200
ADMIN = ("admin@faults.example", "faults-admin-password")
RANGES = (30, 60)  # days before today where the two older 30-day ranges end
IBAN = "BE71 0961 2345 6769"
CREDITOR_ID = "BE69ZZZ050D000000008"  # the Belgian example identifier


@dataclass(frozen=True)
class Target:
    """An open invoice to pay: our id, Teamleader's id and its payment page token."""

    id: int
    teamleader_id: str
    token: str
    has_email: bool


@dataclass
class World:
    stack: Stack
    app: object
    profile_id: int
    today: date
    payable: list[Target]
    ranges: list[tuple[date, date]] = field(default_factory=list)
    # What Teamleader lists in each range (invoices and credit notes), read before any fault.
    expected: dict[tuple[date, date], set[str]] = field(default_factory=dict)

    def take(self, count: int) -> list[Target]:
        """``count`` payable invoices no scenario has used yet."""
        if len(self.payable) < count:
            raise RuntimeError(f"only {len(self.payable)} payable invoices left, {count} wanted")
        taken, self.payable = self.payable[:count], self.payable[count:]
        return taken

    def take_invitable(self, count: int) -> list[Target]:
        """``count`` unused invoices whose customer has an email address."""
        chosen = [t for t in self.payable if t.has_email][:count]
        if len(chosen) < count:
            raise RuntimeError(f"only {len(chosen)} invitable invoices left, {count} wanted")
        self.payable = [t for t in self.payable if t not in chosen]
        return chosen

    def take_range(self) -> tuple[date, date]:
        """A 30-day range of invoice dates nobody has imported yet."""
        return self.ranges.pop(0)

    def browser(self) -> Browser:
        """A new browser session, logged in as the admin through the login form."""
        browser = Browser(self.stack.web_url)
        browser.log_in(*ADMIN)
        return browser

    def control(self, method: str, path: str, **body) -> dict | list | None:
        """The sandbox's control API (``teamleader/…`` or ``provider/…``)."""
        url = f"{self.stack.sandbox_url}/{path.replace('/', '/_control/', 1)}"
        answer = requests.request(method, url, json=body or None, timeout=60)
        answer.raise_for_status()
        return answer.json().get("data") if answer.content else None


def prepare(stack: Stack) -> World:
    """Set the account up in this process, before the collector processes start."""
    logging.disable(logging.INFO)  # alembic's migrations, the app's own info lines
    app = create_app(dict(stack.env))
    world = World(stack, app, 0, date.min, [])
    world.control("POST", "teamleader/reset", seed=SEED, invoice_count=INVOICES)
    with app.app_context():
        flask_migrate.upgrade()
        world.today = today = clock.local_today()
        connection = _connect(app)
        world.profile_id = _configure(connection)
        users.create_user(ADMIN[0], ADMIN[1], "admin")
        creditor.update("Faults Company BV", IBAN, "", CREDITOR_ID)
        imp = imports.create_import(
            ImportSource.CLI, date_from=today - timedelta(days=29), date_to=today
        )
        client = teamleader_setup.client(app, connection)
        imports.run_import(client, connection, imp)
        world.ranges = [(today - timedelta(days=d + 29), today - timedelta(days=d)) for d in RANGES]
        world.expected = {r: _listed(client, connection, *r) for r in world.ranges}
        # From now on imports owe invitations (the base import above sent none).
        profiles.update_profile(
            db.session.get(Profile, world.profile_id), {"send_invitation_on_import": True}
        )
        db.session.remove()
    world.payable = [Target(*row) for row in probes.payable(stack.database_url)]
    return world


def _listed(client, connection, date_from: date, date_to: date) -> set[str]:
    """The Teamleader ids an import of this range is given to import."""
    spec = SimpleNamespace(teamleader_ids=[], date_from=date_from, date_to=date_to)
    invoices, notes = imports.list_documents(client, connection, spec)
    return {record["id"] for record in invoices + notes}


def dispose(world: World) -> None:
    with contextlib.suppress(Exception), world.app.app_context():
        db.engine.dispose()


def _connect(app):
    """Connect as an admin does: "Grant access" on the sandbox's OAuth page."""
    code = authorization_code(teamleader_setup.oauth(app).authorize_url("faults"))
    return teamleader_connection.complete_connect(
        teamleader_setup.oauth(app),
        teamleader_setup.client_factory(app),
        runtime_setup.cipher(app),
        code,
        None,
        app.config["PUBLIC_BASE_URL"],
    )


def _configure(connection) -> int:
    """One profile for everyone: pay online or by transfer; invitations without the PDF.

    The invoice's "Payment profile" custom field is configured, so an import reads each new
    invoice (``invoices.info``, where custom fields are): a call per document the import
    scenarios can slow down to catch an import mid-way. Its values name no profile here,
    so every document falls back to the customer's profile, this one."""
    profile = profiles.create_profile(
        {
            "name": "Faults",
            "allow_payment_link": True,
            "allow_bank_transfer": True,
            "send_invitation_on_import": False,
            "invitation_requires_pdf": False,
        }
    )
    methods = teamleader_connection.active_payment_methods(connection)
    settings = {
        "import_department_ids": connection.import_department_ids,
        "default_profile_id": profile.id,
        "strict_mode_confirmed": True,
        "payment_method_id": methods[0]["id"],
        "invoice_profile_field_id": next(
            f["id"] for f in connection.custom_fields_for("invoice") if "rofile" in f["label"]
        ),
    }
    teamleader_connection.update_settings(connection, settings)
    return profile.id
