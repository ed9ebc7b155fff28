"""Business dates are the company's local dates, whatever UTC says.

At 23:30 UTC in winter (22:30 in summer) it is already half past midnight in Brussels:
the due date has passed, a reminder's day has come, and a direct debit made now must
not be collected before the next business day after the *local* today (D-1).
"""

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from collector.accounts import company, creditor
from collector.core import clock as core_clock
from collector.core.errors import Invalid
from collector.direct_debit import collection_runs, debits
from collector.documents import jobs as documents_jobs
from collector.documents.models import DocumentMail, InvoiceState
from collector.extensions import db
from collector.mail import jobs as mail_jobs
from collector.runtime import setup as runtime_setup
from collector.web.filters import format_date
from tests.conftest import csrf_token
from tests.support.factories import make_announcement, make_invoice, make_mandate, make_profile

WINTER_NEW_YEAR = "2026-12-31T23:30:00Z"  # 00:30 on 1 January in Brussels (CET)
SUMMER_MONTH_END = "2027-06-30T22:30:00Z"  # 00:30 on 1 July in Brussels (CEST)


@pytest.mark.parametrize(
    ("at", "local"),
    [
        ("2026-12-31T22:30:00Z", date(2026, 12, 31)),  # 23:30 local: still the 31st
        (WINTER_NEW_YEAR, date(2027, 1, 1)),
        ("2027-06-30T21:30:00Z", date(2027, 6, 30)),
        (SUMMER_MONTH_END, date(2027, 7, 1)),
    ],
)
def test_today_is_the_local_date(app, clock, at, local):
    clock.set(at)
    assert core_clock.local_today() == local
    assert clock.now().date() != local or at.startswith(("2026-12-31T22", "2027-06-30T21"))


def test_the_zone_is_a_setting_and_teamleaders_is_taken_until_one_is_chosen(app, clock):
    clock.set("2027-03-01T23:30:00Z")
    assert core_clock.zone() == ZoneInfo("Europe/Brussels")  # the default
    assert core_clock.local_today() == date(2027, 3, 2)

    company.adopt_teamleader_zone("Europe/London")  # users.me on connect
    assert core_clock.local_today() == date(2027, 3, 1)  # 23:30 in London
    company.adopt_teamleader_zone("Mars/Olympus_Mons")  # unknown: ignored
    assert core_clock.zone() == ZoneInfo("Europe/London")

    company.set_time_zone("Europe/Amsterdam")
    company.adopt_teamleader_zone("Europe/London")  # a person chose: Teamleader no longer wins
    assert core_clock.zone() == ZoneInfo("Europe/Amsterdam")
    with pytest.raises(Invalid) as refused:
        company.set_time_zone("Europe/Atlantis")
    assert refused.value.errors == {"time_zone": ["Unknown time zone: Europe/Atlantis."]}
    db.session.expire_all()
    assert company.current().time_zone == "Europe/Amsterdam"


@pytest.mark.parametrize(
    ("due", "at", "expired"),
    [
        (date(2026, 12, 31), "2026-12-31T22:30:00Z", False),  # winter, 23:30 local
        (date(2026, 12, 31), WINTER_NEW_YEAR, True),
        (date(2027, 6, 30), "2027-06-30T21:30:00Z", False),  # summer, 23:30 local
        (date(2027, 6, 30), SUMMER_MONTH_END, True),
    ],
)
def test_a_due_date_passes_at_local_midnight(app, clock, due, at, expired):
    invoice = make_invoice(invoice_date=due - timedelta(days=30), due_date=due)
    clock.set(at)
    documents_jobs.expire_overdue()
    db.session.refresh(invoice)
    assert invoice.state == (InvoiceState.EXPIRED if expired else InvoiceState.BOOKED)


@pytest.mark.parametrize(
    ("at", "owed"), [("2027-01-07T22:30:00Z", False), ("2027-01-07T23:30:00Z", True)]
)
def test_a_reminder_is_owed_from_its_local_day(app, clock, at, owed):
    profile = make_profile(reminder_days=[7])
    invoice = make_invoice(
        profile=profile,
        invoice_date=date(2026, 12, 1),
        due_date=date(2027, 1, 1),
        state=InvoiceState.EXPIRED,
    )
    clock.set(at)  # 23:30 / 00:30 on the 7th / 8th in Brussels; the 7th in UTC both times
    mail_jobs.send_reminders()
    keys = db.session.scalars(db.select(DocumentMail.key).filter_by(invoice_id=invoice.id)).all()
    assert keys == (["reminder:7"] if owed else [])


def test_a_run_made_half_past_midnight_collects_after_the_local_today(app, clock):
    creditor.update("Acme NV", "BE71 0961 2345 6769", "GKCCBEBB", "BE69ZZZ050D000000008")
    # Tuesday 5 January 2027, 00:30 in Brussels; still Monday the 4th in UTC.
    clock.set_local(date(2027, 1, 5), time(0, 30))
    assert clock.now().date() == date(2027, 1, 4)
    mandate = make_mandate(signed_on=date(2026, 6, 1))
    invoice = make_invoice(
        customer=mandate.customer,
        profile=mandate.profile,
        invoice_date=date(2026, 12, 20),
        due_date=date(2027, 1, 4),
    )
    # Announced for "today": a run collects it as soon as it may.
    make_announcement(invoice, mandate, date(2027, 1, 5), sent_at=clock.now() - timedelta(days=15))

    today = core_clock.local_today()
    run = collection_runs.create_run(
        runtime_setup.document_store(app), today, today + timedelta(days=7), "CORE", "test"
    )

    [collection] = run.collections
    # D-1: a debit made on Tuesday (local) reaches the debtor's bank Wednesday at the
    # earliest. The UTC date would have said Tuesday — the day itself, a day too early.
    assert collection.collection_date == date(2027, 1, 6)
    assert collection.collection_date == debits.earliest_collection(date(2027, 1, 5))


def test_times_on_pages_are_shown_in_the_company_zone(app, clock):
    clock.set(WINTER_NEW_YEAR)
    assert format_date(clock.now()) == "1 Jan 2027, 00:30"
    company.set_time_zone("Europe/London")
    assert format_date(clock.now()) == "31 Dec 2026, 23:30"
    assert format_date(date(2027, 1, 1)) == "1 Jan 2027"  # a date is a date


def choose_zone(client, name: str):
    token = csrf_token(client, "/settings/company")
    return client.post("/settings/company", data={"csrf_token": token, "time_zone": name})


def test_the_settings_page_changes_the_zone_for_admins_only(app, clock, admin_client):
    page = admin_client.get("/settings/company")
    assert page.status_code == 200
    assert '<option selected value="Europe/Brussels">' in page.get_data(as_text=True)
    bad = choose_zone(admin_client, "Nowhere")
    assert bad.status_code == 400 and "Not a valid choice" in bad.get_data(as_text=True)
    assert company.current().time_zone == "Europe/Brussels"

    assert choose_zone(admin_client, "Europe/Amsterdam").status_code == 302
    db.session.expire_all()
    chosen = company.current()
    assert (chosen.time_zone, chosen.time_zone_chosen) == ("Europe/Amsterdam", True)


def test_viewers_cannot_change_the_zone(app, clock, viewer_client):
    assert choose_zone(viewer_client, "Europe/Amsterdam").status_code == 403
    assert company.current().time_zone == "Europe/Brussels"
