"""/api/v1: API-key auth, JSON everywhere (errors included), profiles."""

import pytest

from collector.accounts import users
from collector.accounts.models import ApiKey
from collector.documents.models import Profile
from collector.extensions import db


@pytest.fixture
def api_key(app):
    _key, plain = users.create_api_key("erp")
    return plain


def auth(key):
    return {"Authorization": f"Bearer {key}"}


def test_key_is_stored_hashed(app, api_key):
    [row] = db.session.scalars(db.select(ApiKey)).all()
    assert api_key not in (row.key_hash, row.prefix)
    assert api_key.startswith(row.prefix)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}, auth("ck_wrong")],
)
def test_missing_or_bad_key_is_401_json(client, headers):
    response = client.get("/api/v1/profiles", headers=headers)
    assert response.status_code == 401
    assert response.is_json and response.json["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_key_is_refused(client, api_key):
    key = db.session.scalars(db.select(ApiKey)).one()
    key.revoked_at = key.created_at
    db.session.commit()
    assert client.get("/api/v1/profiles", headers=auth(api_key)).status_code == 401


def test_create_list_and_get(client, api_key):
    body = {"name": "SEPA", "allow_direct_debit": True}
    created = client.post("/api/v1/profiles", json=body, headers=auth(api_key))
    assert created.status_code == 201
    data = created.json["data"]
    assert data["payment_methods"] == ["direct_debit"]
    assert data["dunning_steps"] == []  # edited in the UI
    assert created.headers["Location"].endswith(f"/api/v1/profiles/{data['id']}")
    listed = client.get("/api/v1/profiles", headers=auth(api_key)).json["data"]
    assert [p["name"] for p in listed] == ["SEPA"]
    one = client.get(f"/api/v1/profiles/{data['id']}", headers=auth(api_key))
    assert one.json["data"]["name"] == "SEPA"


def test_bad_json_is_400_with_message(client, api_key):
    response = client.post(
        "/api/v1/profiles",
        data="{not json",
        headers={**auth(api_key), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "JSON" in response.json["message"]
    assert db.session.scalars(db.select(Profile)).all() == []


def test_non_json_body_is_400(client, api_key):
    response = client.post("/api/v1/profiles", data="name=x", headers=auth(api_key))
    assert response.status_code == 400 and response.is_json


def test_field_errors_come_back_per_field(client, api_key):
    body = {"name": "", "dunning_steps": [], "colour": "red"}
    response = client.post("/api/v1/profiles", json=body, headers=auth(api_key))
    assert response.status_code == 400
    errors = response.json["errors"]
    assert set(errors) == {"name", "dunning_steps", "colour"}
    assert db.session.scalars(db.select(Profile)).all() == []


def test_business_rule_errors_come_back_per_field(client, api_key):
    response = client.post("/api/v1/profiles", json={"name": "None"}, headers=auth(api_key))
    assert response.status_code == 400
    assert "allow_bank_transfer" in response.json["errors"]


def test_unknown_resource_and_method_are_json(client, api_key):
    missing = client.get("/api/v1/profiles/999", headers=auth(api_key))
    assert missing.status_code == 404 and missing.json["message"]
    nowhere = client.get("/api/v1/nothing", headers=auth(api_key))
    assert nowhere.status_code == 404 and nowhere.is_json
    wrong = client.delete("/api/v1/profiles", headers=auth(api_key))
    assert wrong.status_code == 405 and wrong.is_json
