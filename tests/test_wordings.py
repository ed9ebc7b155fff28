"""Texts operations write in English (refusals, an import's reasons) reach a person in
their language, while the operations, the API and the stored rows keep English."""

from __future__ import annotations

from datetime import date

import pytest

from collector.core.errors import Conflict, Invalid
from collector.documents.models import Customer, CustomerKind, Profile
from collector.extensions import db
from collector.runtime.wordings import Wordings
from collector.teamleader import imports
from collector.teamleader.models import DocumentImport, ImportSource, ImportStatus
from tests.conftest import csrf_token

DUTCH = {"Accept-Language": "nl-BE"}
FRENCH = {"Accept-Language": "fr-BE"}


# -- the mechanism ---------------------------------------------------------------------------

WORDINGS = Wordings(
    "Allow at least one way to pay.",
    "Days between 1 and %(count)s after the due date.",
    "%(reason)s What it imported stays; resume it or delete it.",
    "The worker running this import stopped.",
)


def test_a_known_text_is_translated_with_its_values_and_an_unknown_one_kept(app):
    with app.test_request_context(headers=FRENCH):
        assert (
            WORDINGS("Allow at least one way to pay.") == "Autorisez au moins un moyen de paiement."
        )
        assert WORDINGS("Days between 1 and 365 after the due date.") == (
            "Des jours entre 1 et 365 après la date d’échéance."
        )
        assert WORDINGS("Something nobody listed.") == "Something nobody listed."
        # The value a text carries is translated too when it is a known text.
        assert WORDINGS(
            "The worker running this import stopped. What it imported stays; resume it or "
            "delete it."
        ) == (
            "Le processus qui exécutait cette importation s’est arrêté. Ce qui a été importé "
            "reste ; reprenez ou supprimez l’importation."
        )
    # English: the text as the operation wrote it.
    with app.app_context(), app.test_request_context():
        assert WORDINGS("Days between 1 and 365 after the due date.") == (
            "Days between 1 and 365 after the due date."
        )


def test_refusals_keep_their_kind_and_fields(app):
    def refuse_invalid():
        raise Invalid({"allow_bank_transfer": ["Allow at least one way to pay."]})

    def refuse_conflict():
        raise Conflict("Allow at least one way to pay.")

    with app.app_context(), app.test_request_context(headers=DUTCH):
        with pytest.raises(Invalid) as invalid:
            WORDINGS.refusals(refuse_invalid)()
        with pytest.raises(Conflict) as conflict:
            WORDINGS.refusals(refuse_conflict)()
    assert invalid.value.errors == {"allow_bank_transfer": ["Sta minstens één betaalwijze toe."]}
    assert str(conflict.value) == "Sta minstens één betaalwijze toe."


# -- the pages -------------------------------------------------------------------------------


def post(client, path, data, form_path, headers):
    token = csrf_token(client, form_path)
    return client.post(path, data={**data, "csrf_token": token}, headers=headers)


def test_a_profile_refused_by_its_rules_says_why_in_french(admin_client):
    response = post(
        admin_client,
        "/profiles/new",
        {"name": "Rien", "invitation_requires_pdf": "y"},
        "/profiles/new",
        FRENCH,
    )
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    assert "Autorisez au moins un moyen de paiement." in page
    assert "Ne s’applique que si les invitations sont envoyées à l’importation." in page
    assert "Domiciliation SEPA (mandat signé)" in page  # the form's labels
    assert db.session.scalars(db.select(Profile)).all() == []


def test_a_profile_in_use_is_refused_in_dutch(admin_client):
    profile = Profile(name="Standaard", allow_bank_transfer=True)
    db.session.add(profile)
    db.session.add(
        Customer(
            teamleader_id="c-1",
            customer_number="c-1",
            kind=CustomerKind.COMPANY,
            name="Acme",
            profile=profile,
        )
    )
    db.session.commit()

    response = post(admin_client, f"/profiles/{profile.id}/delete", {}, "/profiles/", DUTCH)
    page = response.get_data(as_text=True)

    assert response.status_code == 409
    assert (
        "Profiel “Standaard” wordt gebruikt door 1 klant(en) en 0 document(en); verplaats ze "
        "eerst naar een ander profiel."
    ) in page
    assert "1 klant · 0 documenten" in page


def stopped_import() -> DocumentImport:
    imp = imports.create_import(
        ImportSource.MANUAL, date_from=date(2026, 10, 1), date_to=date(2026, 10, 31)
    )
    imp.status = ImportStatus.INTERRUPTED
    imp.error = (
        "The worker running this import stopped. What it imported stays; resume it or delete it."
    )
    imp.counts = {"skipped": 2, "failed": 1}
    imp.problems = [
        {
            "teamleader_id": "t-1",
            "kind": "invoice",
            "number": "2026 / 9",
            "outcome": "failed",
            "reason": "booked invoice without an invoice date",
        },
        {
            "teamleader_id": "t-2",
            "kind": "credit_note",
            "number": None,
            "outcome": "skipped",
            "reason": "not booked (draft)",
        },
    ]
    db.session.commit()
    return imp


def test_an_imports_reasons_are_shown_in_dutch_and_stay_english_in_the_row(admin_client):
    imp = stopped_import()

    page = admin_client.get(f"/imports/{imp.id}", headers=DUTCH).get_data(as_text=True)

    assert "<td>factuur</td><td>mislukt</td><td>geboekte factuur zonder factuurdatum</td>" in page
    assert "<td>creditnota</td><td>overgeslagen</td><td>niet geboekt (draft)</td>" in page
    assert (
        "Het proces dat deze import uitvoerde, is gestopt. Wat al geïmporteerd is, blijft; "
        "hervat of verwijder de import."
    ) in page
    assert "Documenten gedateerd van" in page and "manueel" in page
    db.session.expire_all()
    assert db.session.get(DocumentImport, imp.id).problems[0]["reason"] == (
        "booked invoice without an invoice date"
    )


def test_a_refused_resume_is_flashed_in_french(admin_client):
    imp = imports.create_import(
        ImportSource.MANUAL, date_from=date(2026, 10, 1), date_to=date(2026, 10, 31)
    )
    imp.status = ImportStatus.INTERRUPTED
    db.session.commit()
    token = csrf_token(admin_client, f"/imports/{imp.id}")
    imp.status = ImportStatus.FINISHED  # finished meanwhile, in another tab
    db.session.commit()

    response = admin_client.post(
        f"/imports/{imp.id}/resume", data={"csrf_token": token}, headers=FRENCH
    )

    assert response.status_code == 409
    assert "seule une importation échouée ou interrompue peut être reprise." in response.get_data(
        as_text=True
    )


def test_an_import_range_refused_says_why_in_dutch(admin_client):
    response = post(
        admin_client,
        "/imports/",
        {"date_from": "2026-10-31", "date_to": "2026-10-01"},
        "/imports/",
        DUTCH,
    )

    assert response.status_code == 400
    assert "De periode eindigt voor ze begint." in response.get_data(as_text=True)
