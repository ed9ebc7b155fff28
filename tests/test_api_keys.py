"""API keys: scopes enforced per endpoint, expired and revoked keys refused, last use
recorded, the key shown once on the settings page, creation and revocation audited."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import flask_migrate
import pytest
import sqlalchemy as sa

from collector import create_app
from collector.accounts import api_keys
from collector.accounts.models import ApiKey, AuditEvent
from collector.accounts.models.api_key import (
    READ,
    SCOPES,
    WRITE_IMPORTS,
    WRITE_PAYMENTS,
    hash_key,
)
from collector.core.errors import Invalid
from collector.extensions import db
from tests.conftest import app_config, csrf_token
from tests.support.factories import make_invoice

# Every write the API has, with a body it accepts and the scope it needs.
WRITES = [
    ("/invoices/{invoice}/mark-paid", {"reason": "cash"}, "write:payments"),
    ("/invoices/{invoice}/archive", {"reason": "settled elsewhere"}, "write:payments"),
    ("/imports", {"date_from": "2026-01-01", "date_to": "2026-01-31"}, "write:imports"),
    ("/imports/1/resume", {}, "write:imports"),
    ("/profiles", {"name": "From the ERP"}, "write:profiles"),
]


def auth(plain: str) -> dict:
    return {"Authorization": f"Bearer {plain}"}


def audit_rows(action: str | None = None) -> list[AuditEvent]:
    query = db.select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.filter_by(action=action)
    return list(db.session.scalars(query))


@pytest.mark.parametrize(("path", "body", "scope"), WRITES)
def test_a_read_key_cannot_write(client, app, path, body, scope):
    invoice = make_invoice()
    _key, plain = api_keys.create_api_key("reader", [READ])
    response = client.post(
        f"/api/v1{path.format(invoice=invoice.id)}", json=body, headers=auth(plain)
    )
    assert response.status_code == 403
    assert response.json["missing_scope"] == scope
    assert scope in response.json["message"]
    assert db.session.get(type(invoice), invoice.id).payments == []


def test_every_api_write_names_its_scope(app):
    """A write without ``@requires`` would be refused to every key; this says which."""
    writes = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and rule.methods & {"POST", "PUT", "PATCH", "DELETE"}
    }
    assert writes  # the API has writes: the check below is not vacuous
    unscoped = {e for e in writes if getattr(app.view_functions[e], "api_scope", None) is None}
    assert unscoped == set()
    assert {p.split("/")[1] for p, _b, _s in WRITES} == {"invoices", "imports", "profiles"}
    scopes = {app.view_functions[e].api_scope for e in writes}
    assert scopes == set(SCOPES) - {READ}


def test_a_write_key_without_read_cannot_list(client, app):
    _key, plain = api_keys.create_api_key("payer", [WRITE_PAYMENTS])
    response = client.get("/api/v1/invoices", headers=auth(plain))
    assert response.status_code == 403 and response.json["missing_scope"] == "read"


def test_the_scope_an_endpoint_needs_lets_the_call_through(client, app):
    invoice = make_invoice()
    _key, payer = api_keys.create_api_key("payer", [WRITE_PAYMENTS])
    paid = client.post(
        f"/api/v1/invoices/{invoice.id}/mark-paid", json={"reason": "cash"}, headers=auth(payer)
    )
    assert paid.status_code == 200 and paid.json["data"]["state"] == "PAID"
    refused = client.post("/api/v1/profiles", json={"name": "X"}, headers=auth(payer))
    assert refused.status_code == 403 and refused.json["missing_scope"] == "write:profiles"


def test_a_key_with_read_reads_everything(client, app):
    _key, plain = api_keys.create_api_key("reader", [READ])
    for path in ("/invoices", "/customers", "/profiles"):
        assert client.get(f"/api/v1{path}", headers=auth(plain)).status_code == 200


def test_the_cli_default_and_older_keys_have_every_scope(app):
    key, _plain = api_keys.create_api_key("all")
    assert key.scopes == list(SCOPES)


def test_an_expired_key_is_refused_after_its_last_day(client, app, clock):
    _key, plain = api_keys.create_api_key("temp", [READ], expires_on=clock.today())
    assert client.get("/api/v1/profiles", headers=auth(plain)).status_code == 200
    clock.advance(days=1)
    response = client.get("/api/v1/profiles", headers=auth(plain))
    assert response.status_code == 401
    assert "expired" in response.json["message"]


def test_a_revoked_key_is_refused_and_the_revocation_audited(client, app):
    key, plain = api_keys.create_api_key("erp", [READ])
    api_keys.revoke_api_key(key.id)
    response = client.get("/api/v1/profiles", headers=auth(plain))
    assert response.status_code == 401 and "revoked" in response.json["message"]
    [row] = audit_rows("api_key.revoked")
    assert row.target == f"api_key:{key.id}" and row.details["prefix"] == key.prefix


def test_last_used_is_recorded_to_the_minute(client, app, clock):
    key, plain = api_keys.create_api_key("erp", [READ])
    assert key.last_used_at is None
    client.get("/api/v1/profiles", headers=auth(plain))
    db.session.expire_all()
    first = db.session.get(ApiKey, key.id).last_used_at
    assert first == clock.now()
    clock.advance(seconds=30)
    client.get("/api/v1/profiles", headers=auth(plain))
    db.session.expire_all()
    assert db.session.get(ApiKey, key.id).last_used_at == first
    clock.advance(minutes=2)
    client.get("/api/v1/profiles", headers=auth(plain))
    db.session.expire_all()
    assert db.session.get(ApiKey, key.id).last_used_at == clock.now()


def test_a_refused_key_is_not_marked_used(client, app):
    key, plain = api_keys.create_api_key("erp", [READ])
    api_keys.revoke_api_key(key.id)
    client.get("/api/v1/profiles", headers=auth(plain))
    db.session.expire_all()
    assert db.session.get(ApiKey, key.id).last_used_at is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "scopes": ["write:everything"]}, "scopes"),
        ({"name": "x", "expires_on": "yesterday"}, "expires_on"),
    ],
)
def test_bad_input_creates_nothing(app, clock, kwargs, field):
    if kwargs.get("expires_on") == "yesterday":
        kwargs["expires_on"] = clock.today() - timedelta(days=1)
    with pytest.raises(Invalid) as raised:
        api_keys.create_api_key(**kwargs)
    assert field in raised.value.errors
    assert db.session.scalars(db.select(ApiKey)).all() == []
    assert audit_rows() == []


def test_creation_is_audited_without_the_key(app):
    key, plain = api_keys.create_api_key("erp", [READ, WRITE_IMPORTS])
    [row] = audit_rows("api_key.created")
    assert row.details["scopes"] == [READ, WRITE_IMPORTS]
    assert row.details["name"] == "erp"
    assert plain not in str(row.details) and key.key_hash not in str(row.details)


def test_the_cli_takes_scopes(app, client):
    result = app.test_cli_runner().invoke(
        args=["create-api-key", "erp", "--scope", "read", "--scope", "write:imports"]
    )
    assert result.exit_code == 0, result.output
    key = db.session.scalars(db.select(ApiKey)).one()
    assert key.scopes == [READ, WRITE_IMPORTS]
    assert audit_rows("api_key.created")[0].actor == "cli"
    bad = app.test_cli_runner().invoke(args=["create-api-key", "x", "--scope", "admin"])
    assert bad.exit_code != 0


# --- the settings page ---------------------------------------------------------------

KEY = re.compile(r"data-key>(ck_[A-Za-z0-9_-]+)<")


def test_the_page_shows_a_new_key_once_and_lists_it_by_prefix(admin_client, app):
    token = csrf_token(admin_client, "/settings/api-keys")
    response = admin_client.post(
        "/settings/api-keys",
        data={"csrf_token": token, "name": "ERP", "scopes": ["read", "write:payments"]},
    )
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    plain = KEY.search(response.get_data(as_text=True)).group(1)
    key = db.session.scalars(db.select(ApiKey)).one()
    assert key.scopes == [READ, WRITE_PAYMENTS] and plain.startswith(key.prefix)
    again = admin_client.get("/settings/api-keys").get_data(as_text=True)
    assert plain not in again and key.prefix in again
    assert admin_client.get("/api/v1/invoices", headers=auth(plain)).status_code == 200
    [row] = audit_rows("api_key.created")
    assert row.actor == "user:admin@example.com"


def test_the_page_refuses_a_key_without_scopes(admin_client, app):
    token = csrf_token(admin_client, "/settings/api-keys")
    response = admin_client.post("/settings/api-keys", data={"csrf_token": token, "name": "ERP"})
    assert response.status_code == 400
    assert 'data-field="scopes"' in response.get_data(as_text=True)
    assert db.session.scalars(db.select(ApiKey)).all() == []


def test_the_page_revokes_a_key(admin_client, app):
    key, plain = api_keys.create_api_key("erp", [READ])
    token = csrf_token(admin_client, "/settings/api-keys")
    response = admin_client.post(f"/settings/api-keys/{key.id}/revoke", data={"csrf_token": token})
    assert response.status_code == 302
    assert admin_client.get("/api/v1/profiles", headers=auth(plain)).status_code == 401
    twice = admin_client.post(f"/settings/api-keys/{key.id}/revoke", data={"csrf_token": token})
    assert twice.status_code == 409
    assert len(audit_rows("api_key.revoked")) == 1


def test_viewers_cannot_see_or_make_keys(viewer_client, app):
    assert viewer_client.get("/settings/api-keys").status_code == 403
    assert viewer_client.post("/settings/api-keys", data={"name": "x"}).status_code in (400, 403)
    assert db.session.scalars(db.select(ApiKey)).all() == []


# --- the migration ----------------------------------------------------------------------


def test_keys_made_before_scopes_keep_every_scope(tmp_path):
    url = f"sqlite:///{tmp_path / 'keys.sqlite3'}"
    app = create_app(app_config(tmp_path, DATABASE_URL=url))
    plain = "ck_made-before-scopes"
    with app.app_context():
        flask_migrate.upgrade(revision="d20000000001")
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO api_key (id, name, prefix, key_hash, created_at)"
                    " VALUES (1, 'ERP', 'ck_made-bef', :hash, '2026-11-01 10:00:00+00:00')"
                ),
                {"hash": hash_key(plain)},
            )
        flask_migrate.upgrade(revision="d20b00000003")
        scopes, expires_on = db.session.execute(
            sa.text("SELECT scopes, expires_on FROM api_key WHERE id = 1")
        ).one()
        assert sorted(json.loads(scopes)) == sorted(SCOPES) and expires_on is None
        db.session.remove()
        flask_migrate.upgrade()  # the app's models are the head's
        client = app.test_client()
        for path, body in (
            ("/api/v1/profiles", {"name": "ERP", "allow_bank_transfer": True}),
            ("/api/v1/imports/9/resume", {}),
        ):
            answer = client.post(path, json=body, headers=auth(plain))
            assert answer.status_code in (201, 404), answer.json  # let through, not 403
        db.session.remove()
        flask_migrate.downgrade(revision="d20000000001")
        with db.engine.connect() as conn:
            columns = [row[1] for row in conn.execute(sa.text("PRAGMA table_info(api_key)"))]
        assert "scopes" not in columns and "expires_on" not in columns
        db.engine.dispose()
