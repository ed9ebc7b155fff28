"""Issue 23, "Email for operators": what needs a person (a connection to fix, a document
Exact Online or Teamleader refuses, a failed job) is recorded as a row where the failure
is recorded, and mailed to every active admin as one digest in their language, at most
every OPERATOR_DIGEST_MINUTES, each item once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from collector.accounts import digest, users
from collector.accounts import jobs as accounts_jobs
from collector.extensions import db
from collector.mail.models import MailMessage, MailStatus
from collector.runtime import jobs as runtime_jobs
from collector.runtime import operator_alerts
from collector.runtime.models import DigestRecipient, JobRun, JobStatus, OperatorAlert
from collector.runtime.queue import tracked
from collector.schedule import SCHEDULE

PASSWORD = "correct horse battery"
BASE = "https://collector.example"
HOUR = timedelta(minutes=60)


@pytest.fixture
def staff(app, monkeypatch):
    """Admins reading French, Dutch and English; an inactive admin; a viewer."""
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", BASE)
    monkeypatch.setitem(app.config, "OPERATOR_DIGEST_MINUTES", 60)
    french = users.set_locale(users.create_user("fr@example.com", PASSWORD, "admin"), "fr_BE")
    dutch = users.set_locale(users.create_user("nl@example.com", PASSWORD, "admin"), "nl_BE")
    english = users.create_user("en@example.com", PASSWORD, "admin")
    gone = users.create_user("gone@example.com", PASSWORD, "admin")
    gone.active = False
    users.create_user("view@example.com", PASSWORD)
    db.session.commit()
    return {"fr": french, "nl": dutch, "en": english}


def digests() -> dict[str, list[MailMessage]]:
    """The digest mails sent, by recipient, oldest first."""
    query = db.select(MailMessage).where(MailMessage.kind == digest.KIND).order_by(MailMessage.id)
    found: dict[str, list[MailMessage]] = {}
    for mail in db.session.scalars(query):
        found.setdefault(mail.recipient, []).append(mail)
    return found


def refused(number: str = "2026/0042", error: str = "payment_method_id is invalid") -> None:
    operator_alerts.record(operator_alerts.SYNC_REFUSED, number, error, "problems.index")
    db.session.commit()


def test_a_failure_repeated_fifty_times_is_one_line_counted(app, staff, clock):
    first = clock.now()
    for _ in range(50):
        last = clock.advance(minutes=1)
        operator_alerts.record(
            operator_alerts.CONNECTION,
            "Teamleader",
            "Teamleader refused the refresh token; connect again.",
            "integrations.teamleader",
        )
    db.session.commit()

    [row] = operator_alerts.waiting()
    assert (row.count, row.first_seen, row.last_seen) == (50, first + timedelta(minutes=1), last)

    accounts_jobs.send_operator_digest()

    [mail] = digests()["en@example.com"]
    assert "- Teamleader: Teamleader refused the refresh token; connect again. (×50, from " in (
        mail.body_text
    )
    assert f"{BASE}/integrations/teamleader" in mail.body_text


def test_each_active_admin_gets_one_digest_in_their_language(app, staff):
    refused("2026/0042")
    refused("2026/0043", "invoice is already paid")
    operator_alerts.record(
        operator_alerts.EXACT_REFUSED, "2026/0040", "Customer account is blocked", "exact.index"
    )
    db.session.commit()

    assert accounts_jobs.send_operator_digest() == "3 digest mail(s) sent"

    sent = digests()
    assert set(sent) == {"fr@example.com", "nl@example.com", "en@example.com"}  # no viewer
    assert all(len(mails) == 1 for mails in sent.values())
    [english], [french], [dutch] = (
        sent["en@example.com"],
        sent["fr@example.com"],
        sent["nl@example.com"],
    )
    assert english.subject == "3 things need a person in collector"
    assert french.subject == "3 points demandent l'intervention d'une personne dans collector"
    assert dutch.subject == "3 punten vragen aandacht van een persoon in collector"
    body = english.body_text
    # Grouped by kind, each group with the page where it is fixed.
    assert body.index("Documents Exact Online keeps refusing") < body.index(
        "Payment statuses Teamleader refused"
    )
    assert "- 2026/0042: payment_method_id is invalid" in body
    assert "- 2026/0043: invoice is already paid" in body
    assert body.count(f"{BASE}/sync-problems/") == 1
    assert f"{BASE}/integrations/exact" in body
    assert "Statuts de paiement refusés par Teamleader" in french.body_text
    assert "Betaalstatussen die Teamleader weigerde" in dutch.body_text
    assert "payment_method_id is invalid" in french.body_text  # Teamleader's words, as said


def test_nothing_is_sent_when_nothing_is_new(app, staff, clock):
    assert accounts_jobs.send_operator_digest() == "Nothing new for the admins."
    refused()
    accounts_jobs.send_operator_digest()
    clock.advance(minutes=61)

    assert accounts_jobs.send_operator_digest() == "Nothing new for the admins."
    assert sum(len(mails) for mails in digests().values()) == 3


def test_an_item_is_sent_once_and_new_ones_wait_for_the_interval(app, staff, clock):
    refused("2026/0042")
    accounts_jobs.send_operator_digest()
    refused("2026/0042", "refused again after a retry")  # a new item: the first went out
    refused("2026/0050", "no such payment method")

    clock.advance(minutes=30)
    assert accounts_jobs.send_operator_digest() == "Nothing new for the admins."
    clock.advance(minutes=31)
    accounts_jobs.send_operator_digest()

    first, second = digests()["en@example.com"]
    assert "payment_method_id is invalid" in first.body_text
    assert "payment_method_id is invalid" not in second.body_text
    assert "- 2026/0042: refused again after a retry" in second.body_text
    assert "2026/0050" in second.body_text
    assert operator_alerts.waiting() == []


def test_a_worker_dying_mid_digest_loses_nothing(app, staff):
    refused()
    # The worker made the digest and mailed one admin, then died.
    digest_id = digest.start()
    [first, *others] = digest.owed()
    assert digest.mail_one(first, accounts_jobs._link)
    assert len(others) == 2

    # Alerts recorded meanwhile wait for the next digest, not this one.
    refused("2026/0099")
    accounts_jobs.send_operator_digest()

    sent = digests()
    assert all(len(mails) == 1 for mails in sent.values()), "each admin mailed once"
    assert set(sent) == {"fr@example.com", "nl@example.com", "en@example.com"}
    assert digest.owed() == []
    assert all("2026/0099" not in mails[0].body_text for mails in sent.values())
    assert [a.subject for a in operator_alerts.waiting()] == ["2026/0099"]
    assert (
        db.session.scalar(db.select(db.func.count()).where(DigestRecipient.digest_id == digest_id))
        == 3
    )


def test_a_mail_interrupted_mid_send_is_not_sent_again(app, staff, monkeypatch):
    """The admin is crossed off with their mail row, before the SMTP server is asked: a
    worker dying while it talks to the server leaves a "queued" row, never a second mail."""
    refused()
    digest.start()
    [first, *_others] = digest.owed()

    class Died(Exception):
        pass

    def die(_message):
        raise Died

    from collector.mail import setup as mail_setup

    mailer = mail_setup.mailer(app)
    monkeypatch.setattr(type(mailer), "send", lambda self, message: die(message))
    with pytest.raises(Died):
        digest.mail_one(first, accounts_jobs._link)
    db.session.rollback()
    monkeypatch.undo()
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", BASE)

    accounts_jobs.send_operator_digest()

    statuses = sorted(m.status for mails in digests().values() for m in mails)
    assert statuses.count(MailStatus.QUEUED) == 1  # the interrupted one, for a person to see
    assert len(statuses) == 3


def test_a_failed_job_is_one_line_however_often_it_fails(app, staff):
    @tracked
    def digest_test_failing_job(*, progress):
        raise RuntimeError("the upstream said no")

    for _ in range(3):
        with pytest.raises(RuntimeError):
            digest_test_failing_job()
    assert (
        db.session.scalar(db.select(db.func.count()).where(JobRun.status == JobStatus.FAILED)) == 3
    )

    [row] = operator_alerts.waiting()
    assert (row.kind, row.subject, row.count) == (
        operator_alerts.JOB_FAILED,
        "digest_test_failing_job",
        3,
    )
    assert row.fact == "RuntimeError: the upstream said no"
    accounts_jobs.send_operator_digest()
    [mail] = digests()["en@example.com"]
    assert "Jobs that failed" in mail.body_text and f"{BASE}/jobs/" in mail.body_text


def test_no_admin_no_digest_the_alerts_wait(app):
    refused()
    assert accounts_jobs.send_operator_digest() == "Nothing new for the admins."
    assert len(operator_alerts.waiting()) == 1


def test_the_digest_is_on_the_schedule():
    [entry] = [p for p in SCHEDULE if p.func is accounts_jobs.send_operator_digest]
    assert entry.interval == accounts_jobs.CHECK_EVERY and entry.queue == "default"


def test_an_admin_made_inactive_before_their_mail_is_skipped(app, staff):
    refused()
    digest.start()
    staff["nl"].active = False
    db.session.commit()

    accounts_jobs.send_operator_digest()

    assert set(digests()) == {"fr@example.com", "en@example.com"}
    assert digest.owed() == []


def test_the_count_and_times_read_in_the_admins_language(app, staff, clock):
    clock.set("2026-03-02T08:15:00Z")
    refused()
    clock.set("2026-03-02T08:45:00Z")
    refused(error="payment_method_id is still invalid")

    accounts_jobs.send_operator_digest()

    [french] = digests()["fr@example.com"]
    assert "- 2026/0042: payment_method_id is still invalid (×2, du " in french.body_text
    assert "Depuis le dernier récapitulatif" in french.body_text
    [dutch] = digests()["nl@example.com"]
    assert "(×2, van " in dutch.body_text and "U ontvangt dit overzicht" in dutch.body_text


def test_housekeeping_prunes_old_digests_and_keeps_what_waits(app, staff, clock):
    refused("2026/0001")
    accounts_jobs.send_operator_digest()
    clock.advance(days=91)
    refused("2026/0002")

    assert "1 operator digests" in runtime_jobs.prune_job_runs()

    assert [a.subject for a in db.session.scalars(db.select(OperatorAlert))] == ["2026/0002"]
    assert db.session.scalar(db.select(db.func.count()).select_from(DigestRecipient)) == 0
