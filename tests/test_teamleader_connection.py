"""Connecting Teamleader: OAuth state, failures leave nothing behind, tokens at rest."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from collector.accounts import company
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from collector.teamleader import connection as teamleader_connection
from collector.teamleader.models import ConnectionStatus, TeamleaderConnection
from tests.conftest import csrf_token
from tests.support.payloads import teamleader_payload as fixture

AUTH = "https://focus.teamleader.eu"
API = "https://api.focus.teamleader.eu"


@pytest.fixture
def tl_app(app):
    app.config.update(
        TEAMLEADER_CLIENT_ID="cid",
        TEAMLEADER_CLIENT_SECRET="csecret",
        PUBLIC_BASE_URL="https://collector.example",
    )
    return app


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def start(client) -> str:
    """Press Connect; return the state Teamleader would send back."""
    response = client.post(
        "/integrations/teamleader/connect",
        data={"csrf_token": csrf_token(client, "/integrations/teamleader")},
    )
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert f"{target.scheme}://{target.netloc}" == AUTH
    query = parse_qs(target.query)
    assert query["client_id"] == ["cid"]
    assert query["redirect_uri"] == ["https://collector.example/integrations/teamleader/callback"]
    return query["state"][0]


def connections():
    return db.session.scalars(db.select(TeamleaderConnection)).all()


def mock_account(rsps, token_status=200, me=None):
    token_body = fixture("oauth2.access_token.response.json")
    rsps.post(f"{AUTH}/oauth2/access_token", json=token_body, status=token_status)
    rsps.post(f"{API}/users.me", json=me or fixture("users.me.response.json"))
    rsps.post(f"{API}/departments.list", json=fixture("departments.list.response.json"))
    rsps.post(
        f"{API}/customFieldDefinitions.list",
        json=fixture("customFieldDefinitions.list.response.json"),
    )
    rsps.post(f"{API}/paymentMethods.list", json=fixture("paymentMethods.list.response.json"))
    rsps.post(f"{API}/webhooks.list", json={"data": []})
    return token_body


def test_connect_stores_encrypted_tokens_and_registers_webhooks(tl_app, admin_client, rsps):
    token_body = mock_account(rsps)
    rsps.post(f"{API}/webhooks.register", status=204)
    state = start(admin_client)
    response = admin_client.get(f"/integrations/teamleader/callback?code=abc&state={state}")
    assert response.status_code == 302
    [connection] = connections()
    me = fixture("users.me.response.json")["data"]
    assert connection.account_id == me["account"]["id"]
    assert connection.status == ConnectionStatus.CONNECTED
    assert token_body["access_token"] not in connection.access_token_enc
    assert token_body["refresh_token"] not in connection.refresh_token_enc
    cipher = runtime_setup.cipher(tl_app)
    assert cipher.decrypt(connection.refresh_token_enc) == token_body["refresh_token"]
    assert connection.departments and connection.import_department_ids
    assert connection.payment_methods == [
        {"id": "49b403be-a32e-0901-9b1c-25214f9027c6", "name": "Coupons", "status": "active"}
    ]
    register = [c for c in rsps.calls if c.request.url.endswith("webhooks.register")][0]
    body = json.loads(register.request.body)
    assert (
        body["url"] == f"https://collector.example/webhooks/teamleader/{connection.webhook_token}"
    )
    assert set(body["types"]) == set(teamleader_connection.WEBHOOK_TYPES)
    page = admin_client.get("/integrations/teamleader").get_data(as_text=True)
    assert "Connected" in page and connection.account_id in page


def test_connect_takes_the_time_zone_of_teamleader_until_one_is_chosen(admin_client, rsps):
    me = fixture("users.me.response.json")
    me["data"]["time_zone"] = "Europe/Amsterdam"
    mock_account(rsps, me=me)
    rsps.post(f"{API}/webhooks.register", status=204)
    state = start(admin_client)
    admin_client.get(f"/integrations/teamleader/callback?code=abc&state={state}")
    assert company.current().time_zone == "Europe/Amsterdam"

    company.set_time_zone("Europe/Brussels")  # a person chose: a reconnect keeps it
    mock_account(rsps, me=me)
    state = start(admin_client)
    admin_client.get(f"/integrations/teamleader/callback?code=abc&state={state}")
    db.session.expire_all()
    assert (company.current().time_zone, company.current().time_zone_chosen) == (
        "Europe/Brussels",
        True,
    )


@pytest.mark.parametrize(
    "query, message",
    [
        ("code=abc&state=forged", "did not match this session"),
        ("error=access_denied&state={state}", "Access was denied in Teamleader"),
        ("state={state}", "sent no authorization code"),
    ],
)
def test_bad_callbacks_store_nothing(tl_app, admin_client, rsps, query, message):
    state = start(admin_client)
    response = admin_client.get(
        "/integrations/teamleader/callback?" + query.format(state=state), follow_redirects=True
    )
    assert message in response.get_data(as_text=True)
    assert connections() == []
    assert len(rsps.calls) == 0


def test_callback_without_a_started_flow_is_refused(tl_app, admin_client, rsps):
    response = admin_client.get(
        "/integrations/teamleader/callback?code=abc&state=x", follow_redirects=True
    )
    assert "not started here or has expired" in response.get_data(as_text=True)
    assert connections() == []


def test_state_is_single_use(tl_app, admin_client, rsps):
    mock_account(rsps)
    rsps.post(f"{API}/webhooks.register", status=204)
    state = start(admin_client)
    admin_client.get(f"/integrations/teamleader/callback?code=abc&state={state}")
    again = admin_client.get(
        f"/integrations/teamleader/callback?code=abc&state={state}", follow_redirects=True
    )
    assert "not started here or has expired" in again.get_data(as_text=True)


def test_refused_code_stores_nothing(tl_app, admin_client, rsps):
    rsps.post(f"{AUTH}/oauth2/access_token", json={"error": "invalid_grant"}, status=400)
    state = start(admin_client)
    response = admin_client.get(
        f"/integrations/teamleader/callback?code=old&state={state}", follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert "Teamleader refused the authorization (invalid_grant)" in page
    assert "Nothing was connected." in page
    assert connections() == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("error=access_denied&state={state}", "L’accès a été refusé dans Teamleader ; rien n’a"),
        ("code=abc&state=forged", "L’autorisation Teamleader ne correspond pas à cette session"),
        ("code=old&state={state}", "Teamleader a refusé l’autorisation (invalid_grant). Rien n’a"),
    ],
)
def test_a_refused_connection_is_told_in_the_readers_language(
    tl_app, admin_client, rsps, query, message
):
    rsps.post(f"{AUTH}/oauth2/access_token", json={"error": "invalid_grant"}, status=400)
    state = start(admin_client)
    response = admin_client.get(
        "/integrations/teamleader/callback?" + query.format(state=state),
        headers={"Accept-Language": "fr-BE"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert message in page
    assert "Nothing was connected" not in page and "nothing was connected" not in page
    assert connections() == []


def test_failure_after_tokens_stores_nothing(tl_app, admin_client, rsps):
    mock_account(rsps)
    rsps.post(f"{API}/webhooks.register", json={"errors": [{"title": "boom"}]}, status=500)
    state = start(admin_client)
    response = admin_client.get(
        f"/integrations/teamleader/callback?code=abc&state={state}", follow_redirects=True
    )
    assert "Registering webhooks in Teamleader failed" in response.get_data(as_text=True)
    assert connections() == []


def test_malformed_account_answer_stores_nothing(tl_app, admin_client, rsps):
    rsps.post(f"{AUTH}/oauth2/access_token", json=fixture("oauth2.access_token.response.json"))
    rsps.post(f"{API}/users.me", body="<html>oops</html>", content_type="text/html")
    state = start(admin_client)
    response = admin_client.get(
        f"/integrations/teamleader/callback?code=abc&state={state}", follow_redirects=True
    )
    assert "Reading the Teamleader account failed" in response.get_data(as_text=True)
    assert connections() == []


def test_viewer_cannot_connect(tl_app, viewer_client, rsps):
    token = csrf_token(viewer_client, "/integrations/teamleader")
    response = viewer_client.post("/integrations/teamleader/connect", data={"csrf_token": token})
    assert response.status_code == 403
    assert viewer_client.get("/integrations/teamleader/callback?code=a&state=b").status_code == 403


def test_invalid_settings_show_field_errors_and_change_nothing(tl_app, admin_client, rsps):
    mock_account(rsps)
    rsps.post(f"{API}/webhooks.register", status=204)
    state = start(admin_client)
    admin_client.get(f"/integrations/teamleader/callback?code=abc&state={state}")
    [connection] = connections()
    before = list(connection.import_department_ids)
    token = csrf_token(admin_client, "/integrations/teamleader")
    response = admin_client.post(
        "/integrations/teamleader/settings",
        data={  # as a browser posts it: no department ticked, selects on "none"
            "csrf_token": token,
            "auto_import": "y",
            "default_profile_id": "",
            "invoice_profile_field_id": "",
            "subscription_profile_field_id": "",
            "payment_method_id": "",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose at least one department to import." in page
    assert "Automatic import needs a default profile." in page
    db.session.refresh(connection)
    assert connection.import_department_ids == before and not connection.auto_import


def test_a_reconnect_gets_a_new_webhook_token_and_the_old_address_stops_working(
    tl_app, admin_client, rsps
):
    mock_account(rsps)
    rsps.post(f"{API}/webhooks.register", status=204)
    rsps.post(f"{API}/webhooks.unregister", status=204)
    state = start(admin_client)
    admin_client.get(f"/integrations/teamleader/callback?code=abc&state={state}")
    [connection] = connections()
    old_token, old_url = connection.webhook_token, connection.webhook_url

    state = start(admin_client)
    admin_client.get(f"/integrations/teamleader/callback?code=abc&state={state}")
    db.session.expire_all()
    [connection] = connections()

    assert connection.webhook_token != old_token
    assert connection.webhook_url.endswith(f"/webhooks/teamleader/{connection.webhook_token}")
    [unregister] = [c for c in rsps.calls if c.request.url.endswith("webhooks.unregister")]
    assert json.loads(unregister.request.body)["url"] == old_url
    delivery = {"type": "invoice.booked", "subject": {"type": "invoice", "id": "i-1"}}
    assert admin_client.post(f"/webhooks/teamleader/{old_token}", json=delivery).status_code == 404
    new = f"/webhooks/teamleader/{connection.webhook_token}"
    assert admin_client.post(new, json=delivery).status_code == 202
