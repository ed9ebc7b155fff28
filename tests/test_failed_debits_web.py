"""The profile's page of what failed direct debits lead to: admins only, saved with an
audit row, refused whole on bad input, in every language."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from collector.accounts.models import AuditEvent
from collector.direct_debit import return_rules
from collector.direct_debit.models import ReturnAction, ReturnRule
from collector.extensions import db
from tests.conftest import csrf_token
from tests.support.factories import make_profile

# The client's own login is an audit row too; these tests look at the rest.
NOT_LOGINS = ~AuditEvent.action.startswith("login.")


@pytest.fixture
def profile(app):
    return make_profile(allow_direct_debit=True, name="Domiciliëring")


def path(profile) -> str:
    return f"/profiles/{profile.id}/failed-debits/"


def form(client, profile, **changes) -> dict:
    data = {"csrf_token": csrf_token(client, path(profile)), "retries": "1", "delay": "7"}
    data |= {f"action-{row.code}": row.action.value for row in return_rules.table(profile)}
    return data | changes


def test_an_admin_changes_what_a_code_leads_to(admin_client, profile):
    page = admin_client.get(path(profile)).get_data(as_text=True)
    assert 'data-code="AM04"' in page and "insufficient funds" in page
    response = admin_client.post(
        path(profile), data=form(admin_client, profile, **{"action-MS03": "retry", "delay": "5"})
    )
    assert response.status_code == 302
    assert return_rules.action_for(profile.id, "MS03") == ReturnAction.RETRY
    db.session.refresh(profile)
    assert profile.debit_retry_days == 5
    # Only the difference from the defaults is stored.
    assert db.session.scalars(sa.select(ReturnRule.code)).all() == ["MS03"]
    [event] = db.session.scalars(sa.select(AuditEvent).where(NOT_LOGINS)).all()
    assert event.action == "profile.failed_debits_saved"
    assert event.target == f"profile:{profile.id}" and event.actor == "user:admin@example.com"
    assert event.details["changed"] == {"MS03": "retry"}


def test_bad_input_is_refused_whole_and_said(admin_client, profile):
    data = form(admin_client, profile, **{"action-MS03": "retry", "retries": "12"})
    response = admin_client.post(path(profile), data=data)
    assert response.status_code == 400
    assert "A whole number from 0 to 3." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(ReturnRule.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(NOT_LOGINS)) == 0


def test_a_viewer_cannot_see_or_change_it(viewer_client, profile):
    assert viewer_client.get(path(profile)).status_code == 403
    token = csrf_token(viewer_client, "/profiles/")
    data = {"csrf_token": token, "retries": "3"}
    assert viewer_client.post(path(profile), data=data).status_code == 403
    db.session.refresh(profile)
    assert profile.debit_retries == 1


def test_a_post_without_the_csrf_token_changes_nothing(admin_client, profile):
    data = form(admin_client, profile, **{"action-MS03": "retry"})
    data.pop("csrf_token")
    assert admin_client.post(path(profile), data=data).status_code == 400
    assert return_rules.action_for(profile.id, "MS03") == ReturnAction.BACK_TO_COLLECT


@pytest.mark.parametrize(
    ("language", "heading"),
    [("nl", "Mislukte domiciliëringen"), ("fr", "Prélèvements échoués"), ("en", "Failed direct")],
)
def test_the_page_speaks_the_readers_language(admin_client, profile, language, heading):
    page = admin_client.get(path(profile), headers={"Accept-Language": language})
    assert heading in page.get_data(as_text=True)


def test_the_list_the_run_and_the_timeline_show_the_reason_and_the_next_step(
    viewer_client, app, clock
):
    from collector.direct_debit import collection_outcomes
    from tests.support.factories import make_collection

    clock.set("2026-11-15T10:00:00Z")
    collection = make_collection()
    collection_outcomes.reject(collection, "AM04", "bank file", clock.today())
    db.session.commit()
    invoice = collection.invoice
    english = {"Accept-Language": "en"}

    listing = viewer_client.get("/invoices/", headers=english).get_data(as_text=True)
    assert 'data-failed-debit="AM04" data-step="retry"' in listing
    assert re.search(r"AM04 · retry from [^<]*22[^<]*</span>", listing)
    assert "retries so far: 0" in listing

    run = viewer_client.get(f"/collections/{collection.run_id}", headers=english)
    page = run.get_data(as_text=True)
    assert 'data-next-step="retry"' in page and "from " in page

    detail = viewer_client.get(f"/invoices/{invoice.id}", headers=english).get_data(as_text=True)
    assert "direct debit failed" in detail and "retry 1 of 1" in detail


def test_the_unusable_mandate_mail_has_its_text_per_language(admin_client, profile):
    steps = admin_client.get(f"/profiles/{profile.id}/dunning/", headers={"Accept-Language": "en"})
    assert 'data-slot="mandate-unusable"' in steps.get_data(as_text=True)
    page = admin_client.get(f"/profiles/{profile.id}/dunning/texts/mandate-unusable/fr")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "nous ne pouvons donc plus utiliser votre mandat" in html
    assert "new_mandate_link" in html
