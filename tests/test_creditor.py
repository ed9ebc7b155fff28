"""The creditor: one row, its IBAN and BIC checked by schwifty, edited by admins."""

from __future__ import annotations

import pytest

from collector.accounts import creditor
from collector.accounts.models import Creditor
from collector.core.errors import Invalid
from collector.extensions import db
from tests.conftest import csrf_token

PAGE = "/settings/creditor"


def rows() -> list[Creditor]:
    return list(db.session.scalars(db.select(Creditor)))


# -- the service --------------------------------------------------------------------------


def test_current_creates_the_row_once(app):
    first = creditor.current()
    assert (first.name, first.iban, first.bic) == ("", None, None)
    assert creditor.current().id == first.id
    assert len(rows()) == 1


def test_an_iban_is_stored_compact_and_upper_case(app):
    saved = creditor.update(" Acme BV ", "be71 0961 2345 6769", "")
    assert (saved.name, saved.iban) == ("Acme BV", "BE71096123456769")
    assert len(rows()) == 1


def test_the_bic_is_derived_where_schwifty_knows_the_bank(app):
    assert creditor.update("Acme", "BE71 0961 2345 6769", "").bic == "GKCCBEBB"
    assert creditor.update("Acme", "NL91 ABNA 0417 1643 00", "").bic == "ABNANL2A"


def test_the_bic_stays_empty_where_schwifty_does_not_know_the_bank(app):
    # Bank code 539 of this textbook IBAN is in no registry schwifty carries.
    saved = creditor.update("Acme", "BE68 5390 0754 7034", "")
    assert (saved.iban, saved.bic) == ("BE68539007547034", None)


def test_a_given_bic_is_checked_and_kept(app):
    assert creditor.update("Acme", "BE68 5390 0754 7034", "gkcc be bb").bic == "GKCCBEBB"


@pytest.mark.parametrize(
    ("iban", "reason"),
    [
        ("BE68 5390 0754 7035", "check digits"),
        ("BE68 5390 0754 703", "number of characters"),
        ("XX68 5390 0754 7034", "country code"),
        ("BE68 5390 0754 703X", "not a valid IBAN"),
    ],
)
def test_a_bad_iban_is_refused_with_its_reason_and_nothing_stored(app, iban, reason):
    creditor.update("Before", "BE71 0961 2345 6769", "")
    with pytest.raises(Invalid) as refused:
        creditor.update("After", iban, "")
    assert list(refused.value.errors) == ["iban"]
    assert reason in refused.value.errors["iban"][0]
    db.session.rollback()
    assert (creditor.current().name, creditor.current().iban) == ("Before", "BE71096123456769")


@pytest.mark.parametrize(("bic", "reason"), [("GKCC", "8 or 11"), ("GKCCXXBB", "country")])
def test_a_bad_bic_is_refused(app, bic, reason):
    with pytest.raises(Invalid) as refused:
        creditor.update("Acme", "BE71 0961 2345 6769", bic)
    assert reason in refused.value.errors["bic"][0]


def test_an_empty_iban_clears_the_account(app):
    creditor.update("Acme", "BE71 0961 2345 6769", "")
    cleared = creditor.update("Acme", "", "")
    assert (cleared.iban, cleared.bic) == (None, None)


# -- the settings page --------------------------------------------------------------------


def post(client, **data):
    values = {
        "name": "Acme BV",
        "iban": "",
        "bic": "",
        "creditor_identifier": "",
        "prenotification_days": "14",
        "pain_version": "pain.008.001.02",
    } | data
    return client.post(PAGE, data={**values, "csrf_token": csrf_token(client, PAGE)})


def test_viewers_see_the_page_but_cannot_change_it(app, viewer_client):
    creditor.update("Acme BV", "BE71 0961 2345 6769", "")
    page = viewer_client.get(PAGE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="BE71 0961 2345 6769"' in html and 'value="GKCCBEBB"' in html
    assert "Save" not in html
    assert post(viewer_client, name="Mallory").status_code == 403
    assert creditor.current().name == "Acme BV"


def test_the_nav_links_the_settings(app, viewer_client):
    assert f'href="{PAGE}"' in viewer_client.get("/profiles/").get_data(as_text=True)


def test_admins_save_a_lower_case_iban_with_spaces_compact(app, admin_client):
    response = post(admin_client, iban="be68 5390 0754 7034")
    assert response.status_code == 302 and response.headers["Location"] == PAGE
    saved = creditor.current()
    assert (saved.name, saved.iban, saved.bic) == ("Acme BV", "BE68539007547034", None)
    assert "Creditor details saved." in admin_client.get(PAGE).get_data(as_text=True)


def test_admins_get_the_bic_derived_for_a_belgian_iban(app, admin_client):
    assert post(admin_client, iban="BE71 0961 2345 6769").status_code == 302
    assert creditor.current().bic == "GKCCBEBB"


def test_a_bad_iban_is_a_400_with_the_reason_under_the_field(app, admin_client):
    response = post(admin_client, iban="BE68 5390 0754 7035")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert '<p class="error" data-field="iban">The IBAN&#39;s check digits do not match' in html
    assert creditor.current().iban is None and creditor.current().name == ""


def test_the_form_needs_its_csrf_token(app, admin_client):
    response = admin_client.post(PAGE, data={"name": "Acme", "iban": "", "bic": ""})
    assert response.status_code == 400
    assert creditor.current().name == ""


# -- direct-debit settings ------------------------------------------------------------------


def test_the_creditor_identifier_is_checked_by_its_check_digits_and_stored_compact(app):
    saved = creditor.update("Acme", "BE71 0961 2345 6769", "", "be69 zzz 050d000000008")
    assert saved.creditor_identifier == "BE69ZZZ050D000000008"
    assert saved.can_collect
    with pytest.raises(Invalid) as refused:
        creditor.update("Other", "", "", "BE68ZZZ050D000000008")
    assert "check digits" in refused.value.errors["creditor_identifier"][0]
    kept = rows()[0]
    assert (kept.name, kept.creditor_identifier) == ("Acme", "BE69ZZZ050D000000008")


def test_a_creditor_without_identifier_cannot_collect(app):
    saved = creditor.update("Acme", "BE71 0961 2345 6769", "")
    assert saved.creditor_identifier is None and not saved.can_collect
    assert (saved.prenotification_days, saved.pain_version) == (14, "pain.008.001.02")


@pytest.mark.parametrize("days", [0, 61, None])
def test_pre_notification_days_stay_within_reason(app, days):
    with pytest.raises(Invalid) as refused:
        creditor.update("Acme", "", "", "", days)
    assert "prenotification_days" in refused.value.errors
    assert rows() == []  # checked before the row is even created: nothing is stored


def test_an_unknown_pain_version_is_refused(app):
    with pytest.raises(Invalid) as refused:
        creditor.update("Acme", "", "", "", 14, "pain.008.003.02")
    assert "pain_version" in refused.value.errors


def test_admins_save_the_direct_debit_settings(app, admin_client):
    response = post(
        admin_client,
        creditor_identifier="BE69 ZZZ 050D000000008",
        prenotification_days="5",
        pain_version="pain.008.001.08",
    )
    assert response.status_code == 302
    saved = rows()[0]
    assert saved.creditor_identifier == "BE69ZZZ050D000000008"
    assert (saved.prenotification_days, saved.pain_version) == (5, "pain.008.001.08")
    page = admin_client.get(PAGE).get_data(as_text=True)
    assert 'value="BE69ZZZ050D000000008"' in page and 'value="5"' in page


def test_a_bad_creditor_identifier_is_a_400_under_its_field(app, admin_client):
    response = post(admin_client, creditor_identifier="BE68ZZZ050D000000008")
    assert response.status_code == 400
    assert "check digits" in response.get_data(as_text=True)
    # Reading the form (for its CSRF token) created the empty row; the refused save left it so.
    [row] = rows()
    assert (row.name, row.creditor_identifier) == ("", None)
