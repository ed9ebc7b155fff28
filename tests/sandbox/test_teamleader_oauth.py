"""OAuth2 authorization-code flow of the emulator (reference §1)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import Client
from werkzeug.wrappers import Response

from tests.support.payloads import teamleader_payload as load_fixture

from .conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    authorization_code,
    exchange,
    make_emulator,
)


def _refresh(tl, refresh_token: str, as_json: bool = False):
    body = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": refresh_token,
        "grant_type": "refresh_token",
    }
    if as_json:
        return tl.post("/oauth2/access_token", json=body)
    return tl.post("/oauth2/access_token", data=body)


def test_authorize_page_offers_grant_and_deny(tl):
    response = tl.get(
        "/oauth2/authorize",
        query_string={
            "client_id": CLIENT_ID,
            "response_type": "code",
            "redirect_uri": REDIRECT_URI,
            "state": "abc",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'method="post"' in page
    assert "Grant access" in page and "Deny" in page
    assert 'value="abc"' in page


def test_code_exchange_returns_the_documented_token_shape(tl):
    response = exchange(tl, authorization_code(tl))
    body = response.get_json()
    assert response.status_code == 200
    assert list(body) == list(load_fixture("oauth2.access_token.response.json"))
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600


def test_code_is_single_use(tl):
    code = authorization_code(tl)
    assert exchange(tl, code).status_code == 200
    again = exchange(tl, code)
    assert again.status_code == 400
    assert again.get_json()["error"] == "invalid_grant"
    assert again.get_json()["error_description"]


def test_code_expires_after_ten_minutes(tl, emulator):
    code = authorization_code(tl)
    emulator.clock.advance(601)
    assert exchange(tl, code).get_json()["error"] == "invalid_grant"


def test_code_is_bound_to_its_redirect_uri(tl):
    code = authorization_code(tl)
    response = exchange(tl, code, redirect_uri="https://evil.example/cb")
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_deny_redirects_with_access_denied_and_state(tl):
    response = tl.post(
        "/oauth2/authorize",
        data={
            "client_id": CLIENT_ID,
            "response_type": "code",
            "redirect_uri": REDIRECT_URI,
            "state": "s9",
            "decision": "deny",
        },
    )
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert response.status_code == 302
    assert query == {"error": ["access_denied"], "state": ["s9"]}


def test_unknown_client_is_not_redirected(tl):
    response = tl.get(
        "/oauth2/authorize",
        query_string={"client_id": "nope", "response_type": "code", "redirect_uri": REDIRECT_URI},
    )
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_wrong_client_secret_is_invalid_client(tl):
    response = tl.post(
        "/oauth2/access_token",
        data={
            "client_id": CLIENT_ID,
            "client_secret": "wrong",
            "code": authorization_code(tl),
            "grant_type": "authorization_code",
            "redirect_uri": REDIRECT_URI,
        },
    )
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"


def test_refresh_rotates_and_the_old_refresh_token_is_refused(tl, tokens):
    first = _refresh(tl, tokens["refresh_token"], as_json=True)
    assert first.status_code == 200
    rotated = first.get_json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert rotated["access_token"] != tokens["access_token"]

    reuse = _refresh(tl, tokens["refresh_token"])
    assert reuse.status_code == 400
    assert reuse.get_json()["error"] == "invalid_grant"
    assert _refresh(tl, rotated["refresh_token"]).status_code == 200


def test_unsupported_grant_type(tl):
    response = tl.post(
        "/oauth2/access_token",
        data={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_type": "password"},
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "unsupported_grant_type"


def test_access_token_expires_after_an_hour(tl, tokens, emulator):
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert tl.post("/users.me", json={}, headers=headers).status_code == 200
    emulator.clock.advance(3600)
    response = tl.post("/users.me", json={}, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["errors"][0]["title"]


def test_revoke_in_control_api_invalidates_tokens(tl, tokens):
    assert tl.post("/_control/revoke").status_code == 204
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert tl.post("/users.me", json={}, headers=headers).status_code == 401
    assert _refresh(tl, tokens["refresh_token"]).status_code == 400


def test_urls_respect_the_mount_prefix():
    """Mounted at /teamleader (as the lead's dispatcher does), form and links keep the prefix."""
    emulator = make_emulator()
    mounted = DispatcherMiddleware(Response("root", 404), {"/teamleader": emulator})
    client = Client(mounted)
    page = client.get(
        "/teamleader/oauth2/authorize",
        query_string={
            "client_id": CLIENT_ID,
            "response_type": "code",
            "redirect_uri": REDIRECT_URI,
        },
    )
    assert 'action="/teamleader/oauth2/authorize"' in page.get_data(as_text=True)

    code = authorization_code(client, prefix="/teamleader")
    token = exchange(client, code, prefix="/teamleader").json["access_token"]
    invoice_id = next(iter(emulator.extensions["teamleader_emulator"].store.data.invoices))
    answer = client.post(
        "/teamleader/invoices.download",
        json={"id": invoice_id, "format": "pdf"},
        headers={"Authorization": f"Bearer {token}"},
    )
    location = answer.json["data"]["location"]
    assert location.startswith("http://localhost/teamleader/_files/")
    assert client.get(urlsplit(location).path).status_code == 200
