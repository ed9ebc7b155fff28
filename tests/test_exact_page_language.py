"""The Exact Online page in the reader's language (issue 18, part 5): labels, choices and
the history in Dutch and French, and the daily-limit notice said their way while the job
keeps the English message it stores and logs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import responses

from collector.core import clock
from collector.core.columns import utcnow
from collector.exact import COUNTRIES, overview
from collector.exact.errors import daily_limit_message
from collector.exact.forms import COUNTRY_NAMES
from collector.exact.models import ExactConnection, ExactSyncRun, SyncTrigger
from collector.extensions import db
from tests.test_exact_daily_limit import spend_the_day
from tests.test_exact_web import (
    BE,
    DIVISION,
    NINE,
    PAGE,
    ex_app,  # noqa: F401 (a fixture)
    make_connection,
    make_teamleader,
    post,
    rsps,  # noqa: F401 (a fixture)
    start,
    text,
    valid_settings,
)

DUTCH = {"Accept-Language": "nl-BE,nl;q=0.9"}
FRENCH = {"Accept-Language": "fr-BE,fr;q=0.9"}


def test_every_exact_country_has_a_name_to_translate():
    assert set(COUNTRY_NAMES) == set(COUNTRIES)


def test_the_settings_read_in_dutch(ex_app, admin_client):  # noqa: F811
    make_teamleader()
    make_connection(ex_app, forwarding=True)

    page = text(admin_client.get(PAGE, headers=DUTCH))

    assert '<html lang="nl-BE">' in page
    assert "<h2>Instellingen</h2>" in page and "Instellingen bewaren" in page
    assert "Dagboek voor facturen" in page and "— kiezen —" in page
    assert "30 dagen na de factuurdatum" in page and ">Contant<" in page
    assert "Grootboekrekening voor 21 %" in page
    assert "Gegenereerd door Exact" in page
    assert "Save settings" not in page and "Journal for invoices" not in page


def test_the_connect_form_names_the_countries_in_french(ex_app, admin_client):  # noqa: F811
    page = text(admin_client.get(PAGE, headers=FRENCH))

    assert '<option selected value="be">Belgique</option>' in page
    assert ">Pays-Bas</option>" in page and ">Royaume-Uni</option>" in page
    assert "Connecter Exact Online" in page and "Non connecté." in page


def test_the_history_says_what_started_a_run_in_the_readers_language(ex_app, admin_client):  # noqa: F811
    make_connection(ex_app, forwarding=True)
    now = utcnow()
    db.session.add(
        ExactSyncRun(division=DIVISION, trigger=SyncTrigger.MANUAL, started_at=now - timedelta(1))
    )
    db.session.commit()

    dutch = text(admin_client.get(PAGE, headers=DUTCH))
    french = text(admin_client.get(PAGE, headers=FRENCH))

    assert "<td>manueel</td>" in dutch and "<td>bezig</td>" in dutch
    assert "<td>manuel</td>" in french and "<td>en cours</td>" in french


def test_the_daily_limit_is_said_in_the_readers_words_and_stored_in_english(
    ex_app,  # noqa: F811
    admin_client,
    redis_conn,
):
    make_connection(ex_app)
    reset = spend_the_day(redis_conn, 3600)
    utc, brussels = reset.astimezone(UTC), f"{clock.local(reset):%H:%M}"

    french = text(admin_client.get(PAGE, headers=FRENCH))
    with responses.RequestsMock():  # nothing may reach Exact
        dutch = text(post(admin_client, "/refresh", headers=DUTCH, follow_redirects=True))

    assert (
        "La limite journalière d’Exact pour cette administration est épuisée ; elle est remise "
        f"à zéro à {utc:%H:%M} UTC ({brussels} à Bruxelles)."
    ) in french
    assert "le transfert reprend de lui-même après la remise à zéro" in french
    said = (
        "De daglimiet van Exact voor deze administratie is opgebruikt; ze wordt om "
        f"{utc:%H:%M} UTC ({brussels} in Brussel) opnieuw ingesteld."
    )
    assert f"Het lezen van de lijsten is mislukt: {said}" in dutch  # the flash
    assert dutch.count(said) == 2  # and the notice
    # What jobs store and log stays English.
    assert daily_limit_message(reset) == (
        "Exact's daily limit for this administration is used up; it resets at "
        f"{utc:%H:%M} UTC ({brussels} in Brussels)."
    )


def test_the_daily_limit_without_a_company_zone_is_said_in_utc(ex_app, monkeypatch):  # noqa: F811
    monkeypatch.setattr(overview, "company_zone", lambda: None)
    reset = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
    with ex_app.test_request_context(headers=DUTCH):
        assert overview.daily_limit_notice(reset) == (
            "De daglimiet van Exact voor deze administratie is opgebruikt; ze wordt om "
            "00:00 UTC opnieuw ingesteld."
        )
        assert overview.daily_limit_notice(None) is None


def test_a_vat_code_of_another_percentage_is_refused_in_the_readers_words(
    ex_app,  # noqa: F811
    admin_client,
):
    make_connection(ex_app, choices=NINE)
    make_teamleader()
    settings = valid_settings(**{"vat_code__0.09": "  0"})

    dutch = text(post(admin_client, "/settings", settings, headers=DUTCH))
    french = text(post(admin_client, "/settings", settings, headers=FRENCH))

    assert (
        "Btw-code 0 — BTW 0% is 0 % in Exact, maar dit Teamleader-tarief is 9 %: "
        "kies een code van 9 %."
    ) in dutch
    assert (
        "Le code TVA 0 — BTW 0% est à 0 % dans Exact, mais ce taux Teamleader est de 9 % : "
        "choisissez un code à 9 %."
    ) in french
    assert "in Exact, but this Teamleader rate" not in dutch + french


def test_a_failed_connection_is_told_in_french(ex_app, admin_client, rsps):  # noqa: F811
    rsps.post(f"{BE}/api/oauth2/token", status=400, json={"error": "invalid_grant"})
    state = start(admin_client, "be")

    response = admin_client.get(
        f"{PAGE}/callback?code=abc&state={state}", headers=FRENCH, follow_redirects=True
    )

    assert "Exact Online a refusé l’autorisation (" in text(response)
    assert "). Rien n’a été connecté." in text(response)
    assert db.session.scalars(db.select(ExactConnection)).all() == []
