"""Admin actions across the app leave one audit row each, written in the same transaction
as the change: a change that is refused or rolled back leaves none."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import responses
import sqlalchemy as sa

from collector.accounts import api_keys, company, creditor, entities
from collector.accounts.models import AuditEvent
from collector.accounts.models.api_key import WRITE_PAYMENTS
from collector.core.errors import Conflict, Invalid
from collector.core.storage import FolderStore
from collector.direct_debit import bank_files, collection_runs, mandates
from collector.documents import callback_endpoints, changes, profiles
from collector.dunning import holds, steps
from collector.dunning.models import INVITATION_SLOT, StepKind
from collector.exact import connection as exact_connection
from collector.exact.models import ExactConnection
from collector.extensions import db
from collector.mail import texts
from collector.runtime import setup as runtime_setup
from collector.teamleader import connection as teamleader_connection
from collector.teamleader.models import TeamleaderConnection
from sandbox import bank
from tests.support.bank import make_creditor, pain008_for
from tests.support.factories import make_collection, make_invoice, make_mandate, make_profile
from tests.test_collection_runs import TODAY, UNTIL, announced
from tests.test_teamleader_connection import API as TL_API
from tests.test_teamleader_connection import mock_account, start

ACTOR = "user:admin@example.com"
SUBJECT = "Relance {{ number }}"
BODY = (
    "Bonjour {{ customer_name }},\n\nPayez ici : {{ payment_link }}\n\n"
    "Communication : {{ structured_reference }}"
)


def rows(action: str | None = None) -> list[AuditEvent]:
    db.session.expire_all()
    query = sa.select(AuditEvent).order_by(AuditEvent.id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


# -- settings ---------------------------------------------------------------------------------


def test_the_time_zone_change_is_recorded_and_a_refused_one_is_not(app):
    with pytest.raises(Invalid):
        company.set_time_zone("Mars/Olympus")
    assert rows() == []
    company.set_time_zone("Europe/Amsterdam")
    [row] = rows("settings.changed")
    assert row.details["area"] == "company"
    assert row.details["fields"] == ["time_zone"]
    assert row.details["new"] == {"time_zone": "Europe/Amsterdam"}


def test_the_creditor_change_names_the_fields_that_changed(app):
    creditor.update("Acme NV", "BE71 0961 2345 6769", "")
    creditor.update("Acme NV", "BE71 0961 2345 6769", "", prenotification_days=5)
    first, second = rows("settings.changed")
    assert "iban" in first.details["fields"] and first.details["area"] == "creditor"
    assert second.details["fields"] == ["prenotification_days"]
    assert second.details["new"] == {"prenotification_days": 5}
    with pytest.raises(Invalid):
        creditor.update("Acme NV", "BE00 0000", "")
    assert len(rows()) == 2


def test_an_entitys_own_creditor_and_its_removal_are_recorded(app):
    creditor.update("Acme NL", "NL91 ABNA 0417 1643 00", "", department_id="dep-nl")
    assert entities.use_default("dep-nl")
    saved, removed = rows("settings.changed")
    assert saved.target == removed.target == "department:dep-nl"
    assert saved.details["area"] == removed.details["area"] == "entity"


def test_teamleader_settings_and_disconnect_are_recorded(app):
    profile = make_profile()
    connection = TeamleaderConnection(
        account_id="acc",
        webhook_token="h",
        departments=[{"id": "dep-be", "name": "BE"}],
        import_department_ids=["dep-be"],
    )
    db.session.add(connection)
    db.session.commit()
    teamleader_connection.update_settings(
        connection, {"import_department_ids": ["dep-be"], "default_profile_id": profile.id}
    )
    [changed] = rows("settings.changed")
    assert changed.details["area"] == "teamleader"
    assert changed.details["fields"] == ["default_profile_id"]
    teamleader_connection.disconnect(connection, None)
    [gone] = rows("teamleader.disconnected")
    assert gone.details == {"account": "acc"}


def test_an_exact_disconnect_is_recorded(app):
    connection = ExactConnection(
        country="be", host="https://start.exactonline.be", exact_user_id="u"
    )
    db.session.add(connection)
    db.session.commit()
    exact_connection.disconnect(connection)
    assert [row.action for row in rows()] == ["exact.disconnected"]


# -- profiles, dunning steps, mail texts ---------------------------------------------------------


def test_profiles_created_changed_and_deleted_are_recorded(app):
    profile = profiles.create_profile({"name": "SEPA", "allow_direct_debit": True})
    profiles.update_profile(profile, {"allow_payment_link": True})
    with pytest.raises(Invalid):
        profiles.create_profile({"name": "sepa", "allow_bank_transfer": True})  # name taken
    profiles.delete_profile(profile)
    created, changed, deleted = rows()
    assert (created.action, changed.action, deleted.action) == (
        "profile.created",
        "profile.changed",
        "profile.deleted",
    )
    assert created.target == changed.target == deleted.target == f"profile:{profile.id}"
    assert created.details["allow_bank_transfer"] is True  # the default, as stored
    assert changed.details["fields"] == ["allow_payment_link"]


def test_a_profile_in_use_is_not_deleted_nor_recorded(app):
    profile = make_profile()
    make_invoice(profile=profile)
    with pytest.raises(Conflict):
        profiles.delete_profile(profile)
    db.session.rollback()
    assert rows() == []


def test_dunning_steps_changed_are_recorded_with_before_and_after(app):
    profile = make_profile(steps=[(StepKind.REMINDER, 7)])
    steps.replace_steps(profile, [(StepKind.REMINDER, 7), (StepKind.FINAL_NOTICE, 21)])
    with pytest.raises(Invalid):
        steps.replace_steps(profile, [(StepKind.REMINDER, 7), (StepKind.REMINDER, 7)])
    [row] = rows()
    assert row.action == "dunning.steps_changed" and row.target == f"profile:{profile.id}"
    assert row.details == {"before": ["reminder@7"], "after": ["reminder@7", "final_notice@21"]}


def test_a_mail_text_saved_and_reset_is_recorded(app):
    profile = make_profile()
    texts.save_text(
        profile.id, INVITATION_SLOT, None, "fr", {"subject": SUBJECT, "body": BODY}, ACTOR
    )
    with pytest.raises(Invalid):
        texts.save_text(
            profile.id, INVITATION_SLOT, None, "fr", {"subject": "", "body": BODY}, ACTOR
        )
    texts.reset_text(profile.id, INVITATION_SLOT, "fr")
    saved, reset = rows()
    assert saved.action == "mail_text.changed" and saved.details["language"] == "fr"
    assert reset.action == "mail_text.reset"


# -- documents, holds ------------------------------------------------------------------------


def test_marking_paid_through_the_api_is_recorded_with_the_key_as_actor(client, app, clock):
    invoice = make_invoice()
    _key, plain = api_keys.create_api_key("erp", [WRITE_PAYMENTS])
    headers = {"Authorization": f"Bearer {plain}"}
    future = (clock.today() + timedelta(days=2)).isoformat()
    refused = client.post(
        f"/api/v1/invoices/{invoice.id}/mark-paid",
        json={"reason": "cash", "paid_at": f"{future}T10:00:00Z"},
        headers=headers,
    )
    assert refused.status_code == 422
    assert rows("invoice.marked_paid") == []
    paid = client.post(
        f"/api/v1/invoices/{invoice.id}/mark-paid", json={"reason": "cash"}, headers=headers
    )
    assert paid.status_code == 200
    [row] = rows("invoice.marked_paid")
    assert row.actor == "api:erp" and row.target == f"invoice:{invoice.id}"
    assert row.details["reason"] == "cash"


def test_archiving_is_recorded(app):
    invoice = make_invoice()
    changes.archive(invoice.id, "Settled elsewhere", ACTOR)
    [row] = rows()
    assert (row.action, row.actor, row.target) == (
        "invoice.archived",
        ACTOR,
        f"invoice:{invoice.id}",
    )


def test_holds_placed_and_lifted_are_recorded(app, clock):
    invoice = make_invoice()
    [hold] = holds.hold_documents(
        [invoice.id], "disputed", None, "Wrong amount", ACTOR, clock.today()
    )
    holds.lift(hold.id, ACTOR)
    with pytest.raises(Conflict):
        holds.lift(hold.id, ACTOR)  # lifted already: refused, not recorded twice
    placed, lifted = rows()
    assert placed.action == "hold.placed" and placed.target == f"invoice:{invoice.id}"
    assert placed.details["reason"] == "disputed" and placed.details["count"] == 1
    assert lifted.action == "hold.lifted"


# -- mandates, collection runs, bank files -----------------------------------------------------


def test_a_revoked_mandate_is_recorded_once(app):
    mandate = make_mandate()
    mandates.revoke(mandate.id, "Cancelled by the customer", ACTOR)
    with pytest.raises(Conflict):
        mandates.revoke(mandate.id, "Again", ACTOR)
    [row] = rows()
    assert row.action == "mandate.revoked" and row.target == f"mandate:{mandate.id}"
    assert row.details["reason"] == "Cancelled by the customer"


@pytest.fixture
def store(tmp_path):
    return FolderStore(tmp_path / "documents")


def test_collection_runs_approved_sent_and_cancelled_are_recorded(app, store):
    creditor.update("Acme NV", "BE71 0961 2345 6769", "GKCCBEBB", "BE69ZZZ050D000000008")
    announced()
    run = collection_runs.create_run(store, TODAY, UNTIL, "CORE", ACTOR)
    with pytest.raises(Invalid):
        collection_runs.cancel(run, "", ACTOR, TODAY)
    collection_runs.cancel(run, "Wrong day chosen", ACTOR, TODAY)
    approved, cancelled = rows("collection_run.approved") + rows("collection_run.cancelled")
    assert approved.target == cancelled.target == f"collection_run:{run.id}"
    assert approved.details["collections"] == 1 and approved.actor == ACTOR
    assert cancelled.details["reason"] == "Wrong day chosen"


def test_an_imported_bank_file_is_recorded_with_its_counts(app, store):
    make_creditor()
    first = make_collection()
    pain008 = pain008_for(first.run)
    bank_file = bank_files.upload(
        store, "settled.xml", bank.settle(pain008, date(2026, 12, 3)), ACTOR, date(2026, 12, 3)
    )
    [row] = rows("bank_file.imported")
    assert row.target == f"bank_file:{bank_file.id}" and row.details["settled"] == 1
    with pytest.raises(bank_files.BankFileRefused):
        bank_files.upload(
            store, "again.xml", bank.settle(pain008, date(2026, 12, 3)), ACTOR, date(2026, 12, 3)
        )
    assert len(rows("bank_file.imported")) == 1


# -- status callbacks ---------------------------------------------------------------------------


def test_callback_endpoints_added_changed_and_removed_are_recorded(app, dns):
    dns["erp.example"] = ["93.184.216.34"]
    cipher = runtime_setup.cipher(app)
    with pytest.raises(Invalid):
        callback_endpoints.add_endpoint("http://127.0.0.1/hook", "local", None, cipher)
    endpoint, secret = callback_endpoints.add_endpoint(
        "https://erp.example/hook?token=abc", "ERP", None, cipher
    )
    callback_endpoints.update_endpoint(endpoint, active=False)
    callback_endpoints.delete_endpoint(endpoint)
    added, changed, removed = rows()
    assert added.action == "callback_endpoint.created"
    assert added.details["url"] == "https://erp.example/hook"
    assert secret not in str(added.details) and "abc" not in str(added.details)
    assert changed.details == {"fields": ["active"], "new": {"active": False}}
    assert removed.action == "callback_endpoint.deleted"


@pytest.fixture
def teamleader_mock(app):
    app.config.update(
        TEAMLEADER_CLIENT_ID="cid",
        TEAMLEADER_CLIENT_SECRET="csecret",
        PUBLIC_BASE_URL="https://collector.example",
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def test_a_teamleader_connect_is_recorded_and_a_failed_one_is_not(admin_client, teamleader_mock):
    rsps = teamleader_mock
    mock_account(rsps)
    rsps.post(f"{TL_API}/webhooks.register", json={"errors": [{"title": "boom"}]}, status=500)
    admin_client.get(f"/integrations/teamleader/callback?code=abc&state={start(admin_client)}")
    assert rows("teamleader.connected") == []
    rsps.replace(responses.POST, f"{TL_API}/webhooks.register", status=204)
    admin_client.get(f"/integrations/teamleader/callback?code=abc&state={start(admin_client)}")
    [row] = rows("teamleader.connected")
    assert row.actor == "user:admin@example.com"
    assert row.details["account"] and "abc" not in str(row.details)
