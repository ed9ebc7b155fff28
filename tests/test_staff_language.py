"""Issue 18, part 5, for the admin screens: mails to staff in each reader's language,
state badges, error pages, and the jobs, outbox, sync problems and settings pages in
Dutch and French."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest

from collector.accounts import users
from collector.direct_debit.models import (
    BankTransactionStatus,
    CollectionRunStatus,
    CollectionStatus,
    MandateStatus,
    MandateUploadStatus,
)
from collector.documents.models import (
    CallbackStatus,
    DocumentMailStatus,
    InvoiceState,
    OverpaymentStatus,
)
from collector.exact.models import BookingStatus
from collector.extensions import db
from collector.mail.models import MailMessage, MailStatus
from collector.payments.models import NotificationStatus
from collector.runtime.models import JobRun, JobStatus
from collector.teamleader import jobs as teamleader_jobs
from collector.teamleader.models import (
    DeliveryStatus,
    DocumentImport,
    ImportSource,
    ImportStatus,
)
from collector.web import states
from collector.web.filters import status_badge
from collector.web.invoice_detail import SYNC_BADGES
from tests.conftest import csrf_token, login

FRENCH = {"Accept-Language": "fr-BE"}
DUTCH = {"Accept-Language": "nl-BE"}
PASSWORD = "correct horse battery"


def mails(kind: str) -> dict[str, MailMessage]:
    query = db.select(MailMessage).where(MailMessage.kind == kind)
    return {mail.recipient: mail for mail in db.session.scalars(query)}


@pytest.fixture
def staff(app):
    """An admin who picked French, one who picked nothing, a French-reading viewer."""
    french = users.set_locale(users.create_user("fr@example.com", PASSWORD, "admin"), "fr_BE")
    english = users.create_user("en@example.com", PASSWORD, "admin")
    viewer = users.set_locale(users.create_user("view@example.com", PASSWORD), "fr_BE")
    return {"fr": french, "en": english, "viewer": viewer}


# -- mails to staff, written in a job (an app context, no request) -------------------------


def test_the_import_summary_speaks_the_language_of_who_started_it(app, staff):
    counts = {"imported": 3, "invoices": 2, "credit_notes": 1, "skipped": 0, "failed": 0}
    imp = DocumentImport(
        source=ImportSource.MANUAL,
        status=ImportStatus.FINISHED,
        date_from=date(2026, 3, 1),
        date_to=date(2026, 3, 31),
        user=staff["fr"],
        counts=counts,
    )
    db.session.add(imp)
    db.session.commit()

    teamleader_jobs._send_summary(imp)

    mail = mails("import_summary")["fr@example.com"]
    assert mail.subject == f"Importation Teamleader n° {imp.id} terminée : 3 importés"
    assert "du 1 mars 2026 au 31 mars 2026" in mail.body_text
    # The values still line up under the longest (French) label.
    assert re.search(r"^Importés :\s+3 \(2 factures, 1 notes de crédit", mail.body_text, re.M)
    assert imp.summary_sent_at is not None


# -- state badges ---------------------------------------------------------------------------

BADGED = (
    InvoiceState,
    JobStatus,
    MailStatus,
    ImportStatus,
    MandateUploadStatus,
    MandateStatus,
    CollectionRunStatus,
    CollectionStatus,
    BankTransactionStatus,
    CallbackStatus,
    OverpaymentStatus,
    DocumentMailStatus,
    BookingStatus,
    DeliveryStatus,
    NotificationStatus,
)
# Strings the templates badge: the provider's payment states, the Teamleader sync words,
# a callback endpoint's state, partly paid, a mandate upload problem's level.
MOLLIE = ("open", "canceled", "pending", "authorized", "expired", "failed", "paid")
OTHERS = ("active", "disabled", "partly paid", "error", "warning")


def test_every_state_a_template_badges_has_words():
    values = {member.value for enum in BADGED for member in enum}
    values |= set(SYNC_BADGES.values()) | set(MOLLIE) | set(OTHERS)
    assert sorted(values - set(states.LABELS)) == []


def test_a_badge_keeps_its_class_and_speaks_the_readers_language(app):
    # Each request has an app context of its own, as in production (the locale lives in g).
    with app.app_context(), app.test_request_context(headers=FRENCH):
        assert status_badge(InvoiceState.BOOKED) == (
            '<span class="badge badge-booked">ouvert</span>'
        )
        assert status_badge("partly paid") == (
            '<span class="badge badge-partly-paid">payé en partie</span>'
        )
        assert status_badge("<frobbed>") == (
            '<span class="badge badge-&lt;frobbed&gt;">&lt;frobbed&gt;</span>'
        )
    with app.app_context(), app.test_request_context(headers=DUTCH):
        assert status_badge(InvoiceState.EXPIRED) == (
            '<span class="badge badge-expired">vervallen</span>'
        )
    with app.app_context(), app.test_request_context():
        assert status_badge(JobStatus.FAILED) == '<span class="badge badge-failed">failed</span>'


# -- error pages -----------------------------------------------------------------------------


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_error_pages_speak_the_readers_language(client, viewer):
    missing = client.get("/no-such-page", headers=FRENCH)
    assert missing.status_code == 404
    assert "404 · Introuvable" in text(missing) and "Cette page n'existe pas" in text(missing)
    assert "404 · Not found" in client.get("/no-such-page").text

    login(client, viewer.email)
    token = csrf_token(client, "/jobs/")
    refused = client.post("/jobs/housekeeping", data={"csrf_token": token}, headers=DUTCH)
    assert refused.status_code == 403
    assert "Met uw rol (lezer) kunt u alles bekijken maar niets wijzigen." in text(refused)

    no_token = client.post("/jobs/housekeeping", headers=FRENCH)
    assert no_token.status_code == 400
    assert "Le formulaire a été envoyé sans son jeton de sécurité." in text(no_token)


# -- the pages -------------------------------------------------------------------------------

PAGES = {
    "/jobs/": {"fr": "Tâches en arrière-plan", "nl": "Achtergrondtaken"},
    "/outbox/": {"fr": "Aucun serveur de messagerie", "nl": "Er is geen mailserver"},
    "/sync-problems/": {"fr": "Callbacks de statut abandonnés", "nl": "Opgegeven statuscallbacks"},
    "/settings/creditor": {"fr": "Jours de pré-notification", "nl": "Wie betaald wordt."},
    "/settings/company": {"fr": "Fuseau horaire", "nl": "Het is daar nu"},
}
ENGLISH = ("Background jobs", "No mail server is configured", "Status callbacks given up")


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("language", ["fr", "nl"])
def test_the_admin_pages_read_in_dutch_and_french(admin_client, path, language):
    page = admin_client.get(path, headers={"Accept-Language": language})
    assert page.status_code == 200
    assert PAGES[path][language] in text(page)
    assert not [english for english in ENGLISH if english in text(page)]


def test_a_job_reads_in_french_and_its_progress_says_its_state(admin_client, admin):
    run = JobRun(job_id="job-1", name="prune_job_runs", status=JobStatus.FAILED, user=admin)
    db.session.add(run)
    db.session.commit()

    listing = admin_client.get("/jobs/", headers=FRENCH).text
    assert (
        ">Nettoyage</a>" in listing and '<span class="badge badge-failed">échoué</span>' in listing
    )
    page = text(admin_client.get("/jobs/job-1", headers=FRENCH))
    assert "Mise en file d'attente le" in page and "par admin@example.com." in page
    progress = admin_client.get("/jobs/job-1/progress", headers=DUTCH).get_json()
    assert (progress["status"], progress["status_label"]) == ("failed", "mislukt")


def test_creditor_settings_refuse_and_save_in_french(admin_client):
    token = csrf_token(admin_client, "/settings/creditor")
    form = {"name": "Brol", "iban": "BE00 0000 0000 0000", "bic": "", "csrf_token": token}
    form |= {"creditor_identifier": "", "prenotification_days": "14"}
    form["pain_version"] = "pain.008.001.02"
    refused = admin_client.post("/settings/creditor", data=form, headers=FRENCH)
    assert refused.status_code == 400
    assert "Les chiffres de contrôle de l'IBAN ne correspondent pas au reste" in text(refused)

    form["iban"] = "BE68 5390 0754 7034"
    saved = admin_client.post("/settings/creditor", data=form, headers=FRENCH)
    assert saved.status_code == 302
    page = text(admin_client.get("/settings/creditor", headers=FRENCH))
    assert "Coordonnées du créancier enregistrées." in page
