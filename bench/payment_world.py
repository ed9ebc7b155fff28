"""The world a payment bench pays in: the app's settings, Teamleader connected and set up
for paying online, the recent invoices imported as the ones to pay, their checkouts
started, and the import of older documents run beside the payments (``payment_latency.py``
and ``worker_scaling.py``)."""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

import flask_migrate
import requests
from import_throughput import RANGE_DAYS, Job, app_config, configure, connect

from collector.core.columns import utcnow
from collector.documents import profiles
from collector.documents.ledger import PAYABLE
from collector.documents.models import DocumentKind, Invoice, Profile
from collector.extensions import db
from collector.payments import checkout
from collector.runtime.models import JobRun
from collector.teamleader import connection as teamleader_connection
from collector.teamleader import imports
from collector.teamleader import jobs as teamleader_jobs
from collector.teamleader import setup as teamleader_setup
from collector.teamleader.models import DocumentImport, ImportSource
from sandbox.provider.emulator import DEFAULTS as PROVIDER_DEFAULTS

REDIS_URL = "redis://127.0.0.1:6379/8"  # make test uses 13, a bare pytest 15, other benches 14
RATE_LIMIT = 100_000  # calls per minute, sandbox and ours: never the bottleneck here
POLL_SECONDS = 0.1
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
RECENT_DAYS = 10  # the invoices to pay are the last ten days'
WORLD_INVOICES = 7200  # over 90 days: ~800 in the recent ten, ~5,000 in the 63 before


@dataclass(frozen=True)
class Target:
    """An open invoice to pay: our id, Teamleader's id and its payment page token."""

    id: int
    teamleader_id: str
    token: str


# -- the settings ----------------------------------------------------------------------------


def collector_config(
    sandbox_url: str, database_url: str, tmp: str, redis_url: str = REDIS_URL
) -> dict:
    """The import benchmark's settings, plus the provider, ``redis_url`` and no rate limit."""
    job = Job(f"{sandbox_url}/teamleader", database_url, tmp, 60.0, False)
    return {
        **app_config(job),
        "REDIS_URL": redis_url,
        "TEAMLEADER_RATE_LIMIT": RATE_LIMIT,
        "PAYMENT_PROVIDER_URL": f"{sandbox_url}/provider/v2",
        "PAYMENT_PROVIDER_API_KEY": PROVIDER_DEFAULTS["API_KEY"],
        "MAIL_HOST": "",  # the mail sink, whatever a .env says
    }


# -- setup: connected, configured, imported ---------------------------------------------------


def prepare(app, count: int) -> list[Target]:
    """Migrate, connect, configure for online payments, import; ``count`` payable invoices."""
    flask_migrate.upgrade()
    connection = connect(app)
    configure(connection, custom_fields=False)
    allow_online_payments(connection)
    today = utcnow().date()
    imp = imports.create_import(
        ImportSource.CLI, date_from=today - timedelta(days=RECENT_DAYS), date_to=today
    )
    imports.run_import(teamleader_setup.client(app, connection), connection, imp)
    targets = payable(count)
    if len(targets) < count:
        raise RuntimeError(f"only {len(targets)} payable invoices imported, {count} needed")
    return targets


def allow_online_payments(connection) -> None:
    """What writing payments back needs: the default profile offers paying online,
    strict mode is confirmed and our payments carry one of the account's methods."""
    default = db.session.get(Profile, connection.default_profile_id)
    profiles.update_profile(default, {"allow_payment_link": True})
    settings = {
        "import_department_ids": connection.import_department_ids,
        "default_profile_id": default.id,
        "strict_mode_confirmed": True,
        "payment_method_id": teamleader_connection.active_payment_methods(connection)[0]["id"],
    }
    teamleader_connection.update_settings(connection, settings)


def payable(count: int) -> list[Target]:
    query = (
        db.select(Invoice.id, Invoice.teamleader_id, Invoice.payment_token)
        .join(Invoice.profile)
        .where(
            Invoice.kind == DocumentKind.INVOICE,
            Invoice.state.in_(PAYABLE),
            Invoice.amount_due > 0,
            Profile.allow_payment_link,
        )
        .order_by(Invoice.id)
        .limit(count)
    )
    return [Target(*row) for row in db.session.execute(query)]


# -- one scenario ------------------------------------------------------------------------------


def start_checkouts(app, app_url: str, targets: list[Target]) -> list[str]:
    """Press "Pay online" on each payment page; the provider's payment ids, in order."""
    browser = requests.Session()
    for target in targets:
        page = browser.get(f"{app_url}/pay/{target.token}", timeout=10)
        form = {"csrf_token": CSRF.search(page.text).group(1)}
        answer = browser.post(
            f"{app_url}/pay/{target.token}/online", data=form, allow_redirects=False, timeout=10
        )
        if answer.status_code != 303:
            raise RuntimeError(f"Pay online for invoice {target.id}: HTTP {answer.status_code}")
    with app.app_context():
        ids = [checkout.latest(db.session.get(Invoice, t.id)).provider_id for t in targets]
        db.session.remove()
    return ids


@dataclass
class Import:
    """The import run beside the payments: its span, and what it imported."""

    run_id: int
    import_id: int
    started: float | None = None
    finished: float | None = None
    documents: int = 0

    def running_at(self, t: float) -> bool:
        return self.started is not None and self.started <= t <= (self.finished or math.inf)


def start_import(app, size: int) -> Import:
    """Queue an import of the older documents (about ``size``), wait until a worker has
    begun it, so the payments meet it running, and watch it in a thread until it ends."""
    with app.app_context():
        today = utcnow().date()
        imp = imports.create_import(
            ImportSource.CLI,
            date_from=today - timedelta(days=RECENT_DAYS + import_days(size)),
            date_to=today - timedelta(days=RECENT_DAYS + 1),
        )
        beside = Import(run_id=teamleader_jobs.start_import(imp).id, import_id=imp.id)
        db.session.remove()
    threading.Thread(target=_watch_import, args=(app, beside), daemon=True).start()
    deadline = time.monotonic() + 60
    while beside.started is None:
        if time.monotonic() > deadline:
            raise RuntimeError("the import did not start within a minute")
        time.sleep(POLL_SECONDS / 2)
    return beside


def _watch_import(app, beside: Import) -> None:
    with app.app_context():
        while beside.finished is None:
            db.session.expire_all()
            run = db.session.get(JobRun, beside.run_id)
            if beside.started is None and run.started_at is not None and run.progress_done:
                beside.started = run.started_at.timestamp()
            if run.finished_at is not None:
                imp = db.session.get(DocumentImport, beside.import_id)
                beside.documents = imp.count("imported")
                beside.finished = run.finished_at.timestamp()
            time.sleep(POLL_SECONDS / 2)
        db.session.remove()


def wait_for_import(beside: Import, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while beside.finished is None and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)


def import_days(size: int) -> int:
    """Days of invoices (the sandbox spreads them evenly over 90) that hold about ``size``."""
    return max(1, math.ceil(size / (WORLD_INVOICES / RANGE_DAYS)))
