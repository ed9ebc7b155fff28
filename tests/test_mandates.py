"""Mandates: the SEPA rules for references and accounts, the mandate to collect on,
revoking, and lapsing after 36 months unused (daily job on rq)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from rq import SimpleWorker

from collector.core.clock import local_today
from collector.core.columns import utcnow
from collector.core.errors import Conflict, Invalid, NotFound
from collector.direct_debit import jobs as direct_debit_jobs
from collector.direct_debit import mandates
from collector.direct_debit.mandate_csv import clean_cell, parse_date
from collector.direct_debit.models import Mandate, MandateStatus
from collector.extensions import db
from collector.runtime.models import JobRun, JobStatus
from collector.runtime.queue import QUEUES, bind_job_class
from collector.schedule import SCHEDULE
from tests.support.factories import make_customer, make_mandate, make_profile


def reload(mandate: Mandate) -> Mandate:
    db.session.expire_all()
    return db.session.get(Mandate, mandate.id)


# -- references -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reference",
    ["MD-2024-0001", "a" * 35, "ab/cd-ef?gh:(ij).kl,mn'op+qr st", "0000001"],
)
def test_references_of_the_sepa_set_pass(reference):
    assert mandates.reference_problem(reference) is None


@pytest.mark.parametrize(
    ("reference", "problem"),
    [
        ("", "A mandate reference is required."),
        ("a" * 36, "at most 35 characters; this one has 36"),
        ("MD_1", "Not allowed in a mandate reference: _."),
        ("MD#1é&#", "Not allowed in a mandate reference: #é&."),
        ("/MD-1", "may not start or end with “/” or contain “//”"),
        ("MD-1/", "may not start or end with “/” or contain “//”"),
        ("MD//1", "may not start or end with “/” or contain “//”"),
    ],
)
def test_references_outside_the_rules_are_refused_with_why(reference, problem):
    assert problem in mandates.reference_problem(reference)


def test_references_are_the_same_in_any_case():
    assert mandates.reference_key(" md-1a ") == mandates.reference_key("MD-1A") == "MD-1A"


# -- accounts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("iban", "bic", "stored"),
    [
        ("be71 0961 2345 6769", "", ("BE71096123456769", "GKCCBEBB")),  # derived
        ("NL91ABNA0417164300", "abnanl2a", ("NL91ABNA0417164300", "ABNANL2A")),
        ("DE89 3704 0044 0532 0130 00", "", ("DE89370400440532013000", "COBADEFFXXX")),
        ("BE68539007547034", "", ("BE68539007547034", None)),  # unknown bank, EEA: none
        ("AT611904300234573201", "", ("AT611904300234573201", None)),
        ("GB29NWBK60161331926819", "", ("GB29NWBK60161331926819", "NWBKGB2LXXX")),
        ("CH9300762011623852957", "UBSWCHZH80A", ("CH9300762011623852957", "UBSWCHZH80A")),
    ],
)
def test_accounts_are_stored_compact_with_the_bic_given_or_derived(iban, bic, stored):
    account = mandates.check_account(iban, bic)

    assert (account.iban, account.bic) == stored
    assert account.problems == {}


@pytest.mark.parametrize(
    ("iban", "bic", "column", "problem"),
    [
        ("", "", "iban", "An IBAN is required."),
        ("BE72096123456769", "", "iban", "check digits do not match"),
        ("XX72096123456769", "", "iban", "An IBAN starts with a known country code"),
        ("BE7109612345676", "", "iban", "number of characters its country uses"),
        ("SA0380000000608010167519", "", "iban", "Accounts in SA are outside SEPA"),
        ("BE71096123456769", "GEBAXXBB", "bic", "Letters 5 and 6 of a BIC are a country code"),
        ("BE71096123456769", "GEBABE", "bic", "A BIC has 8 or 11 characters."),
        ("CH9300762011623852957", "", "bic", "A BIC is required for accounts in CH"),
    ],
)
def test_bad_accounts_say_what_is_wrong_per_column(iban, bic, column, problem):
    account = mandates.check_account(iban, bic)

    assert list(account.problems) == [column]
    assert problem in account.problems[column]


def test_a_bic_of_another_bank_is_kept_with_a_warning():
    account = mandates.check_account("NL91ABNA0417164300", "RABONL2U")

    assert (account.bic, account.problems) == ("RABONL2U", {})
    assert "not the bank of this IBAN (ABNANL2A)" in account.warnings["bic"]


# -- cells and dates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-31", date(2024, 3, 31)),
        ("31/03/2024", date(2024, 3, 31)),
        ("1/2/2024", date(2024, 2, 1)),
        ("31/02/2024", None),
        ("2024/03/31", None),
        ("03-31-2024", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_sign_dates_are_year_first_or_day_first(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("'=SUM(A1)", "=SUM(A1)"),
        ("'+32 ref", "+32 ref"),
        ("'-x", "-x"),
        ("'@x", "@x"),
        ("'\tx", "x"),
        ("'quoted'", "'quoted'"),  # not ours: an apostrophe the user typed stays
        ("  MD-1  ", "MD-1"),
    ],
)
def test_the_exports_formula_apostrophe_comes_off(cell, value):
    assert clean_cell(cell) == value


def test_today_is_the_latest_date_anywhere():
    late_evening_utc = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)  # already 2 March in Brussels

    assert mandates.latest_today(late_evening_utc) == date(2026, 3, 2)


# -- the mandate to collect on --------------------------------------------------------------


def test_the_active_mandate_is_the_latest_signed_on_that_profile(app):
    customer, sepa, other = make_customer(), make_profile(), make_profile()
    make_mandate(customer=customer, profile=sepa, signed_on=date(2023, 5, 1))
    latest = make_mandate(customer=customer, profile=sepa, signed_on=date(2024, 5, 1))
    make_mandate(
        customer=customer, profile=sepa, signed_on=date(2025, 5, 1), status=MandateStatus.REVOKED
    )
    make_mandate(customer=customer, profile=other, signed_on=date(2026, 1, 1))
    make_mandate(profile=sepa, signed_on=date(2026, 2, 1))  # someone else's

    assert mandates.active_mandate(customer.id, sepa.id).id == latest.id
    assert mandates.active_mandate(customer.id, make_profile().id) is None


# -- revoking -------------------------------------------------------------------------------


def test_revoking_records_why_and_when(app):
    mandate = make_mandate()

    mandates.revoke(mandate.id, "  Cancelled by the customer.  ", "user:admin@example.com")

    mandate = reload(mandate)
    assert mandate.status == MandateStatus.REVOKED
    assert mandate.status_reason == "Cancelled by the customer. (user:admin@example.com)"
    assert mandate.status_changed_at == utcnow()  # the test clock stands still
    assert mandates.active_mandate(mandate.customer_id, mandate.profile_id) is None


@pytest.mark.parametrize(
    ("reason", "message"), [("", "Say why the mandate is revoked."), ("x" * 301, "At most 300")]
)
def test_revoking_needs_a_reason(app, reason, message):
    mandate = make_mandate()

    with pytest.raises(Invalid) as refused:
        mandates.revoke(mandate.id, reason, "user:a")

    assert message in refused.value.errors["reason"][0]
    assert reload(mandate).status == MandateStatus.ACTIVE


def test_only_an_active_mandate_is_revoked(app):
    mandate = make_mandate(status=MandateStatus.LAPSED, status_reason="Not used for 36 months.")

    with pytest.raises(Conflict, match="is lapsed already"):
        mandates.revoke(mandate.id, "Closed", "user:a")
    with pytest.raises(NotFound, match=f"No mandate with id {mandate.id + 1000}"):
        mandates.revoke(mandate.id + 1000, "Closed", "user:a")
    assert reload(mandate).status_reason == "Not used for 36 months."


# -- lapsing --------------------------------------------------------------------------------


def test_mandates_unused_for_36_months_lapse(app):
    today = date(2028, 6, 1)
    signed_long_ago = make_mandate(signed_on=date(2025, 6, 1))  # exactly 36 months
    signed_recently = make_mandate(signed_on=date(2025, 6, 2))
    collected_long_ago = make_mandate(
        signed_on=date(2020, 1, 1), used=True, last_collected_on=date(2025, 5, 31)
    )
    collected_recently = make_mandate(
        signed_on=date(2020, 1, 1), used=True, last_collected_on=date(2026, 1, 5)
    )
    revoked = make_mandate(signed_on=date(2020, 1, 1), status=MandateStatus.REVOKED)

    assert mandates.lapse_unused(today) == 2

    statuses = {m.id: reload(m).status for m in (signed_long_ago, collected_long_ago)}
    assert set(statuses.values()) == {MandateStatus.LAPSED}
    assert reload(signed_long_ago).status_reason == "Not used for 36 months."
    assert reload(signed_recently).status == MandateStatus.ACTIVE
    assert reload(collected_recently).status == MandateStatus.ACTIVE
    assert reload(revoked).status == MandateStatus.REVOKED
    assert mandates.lapses_on(reload(collected_recently)) == date(2029, 1, 5)
    assert mandates.lapse_unused(today) == 0


def test_the_daily_lapse_job_runs_on_rq(app, redis_conn):
    today = local_today()
    old = make_mandate(signed_on=today - relativedelta(months=37))
    young = make_mandate(signed_on=today - relativedelta(months=35))

    run = app.extensions["jobs"].enqueue(direct_debit_jobs.lapse_mandates, queue="low")
    SimpleWorker(QUEUES, connection=redis_conn, job_class=bind_job_class(app)).work(burst=True)

    db.session.expire_all()
    run = db.session.scalars(sa.select(JobRun).filter_by(job_id=run.job_id)).one()
    assert (run.status, run.message) == (JobStatus.FINISHED, "1 mandate(s) lapsed")
    assert (reload(old).status, reload(young).status) == (
        MandateStatus.LAPSED,
        MandateStatus.ACTIVE,
    )
    [entry] = [p for p in SCHEDULE if p.func is direct_debit_jobs.lapse_mandates]
    assert (entry.queue, entry.cron) == ("low", "20 0 * * *")
