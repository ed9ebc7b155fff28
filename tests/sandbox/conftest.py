"""Fixtures for the Teamleader emulator tests: an emulator app, an OAuth-authorised
caller and the reference fixtures (copied into ``tests/fixtures/teamleader``)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from sandbox.teamleader import create_app
from sandbox.teamleader.emulator import EXTENSION

CLIENT_ID = "collector-sandbox"
CLIENT_SECRET = "sandbox-secret"
REDIRECT_URI = "https://collector.example/teamleader/callback"
CLOCK_START = "2026-03-15T10:00:00+00:00"


def make_emulator(**config):
    """An emulator app with a fixed clock, so dates in assertions are stable."""
    settings = {"SEED": 7, "CLOCK_START": CLOCK_START, "TESTING": True, "WEBHOOK_TIMEOUT": 1}
    return create_app({**settings, **config})


def authorization_code(
    client, state: str = "s1", redirect_uri: str = REDIRECT_URI, prefix: str = ""
) -> str:
    """Press "Grant access" and return the code from the redirect."""
    response = client.post(
        f"{prefix}/oauth2/authorize",
        data={
            "client_id": CLIENT_ID,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "state": state,
            "decision": "grant",
        },
    )
    assert response.status_code == 302, response.data
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["state"] == [state]
    return query["code"][0]


def exchange(client, code: str, redirect_uri: str = REDIRECT_URI, prefix: str = ""):
    """POST the code to the token endpoint (form-encoded, as the Blueprint shows)."""
    return client.post(
        f"{prefix}/oauth2/access_token",
        data={
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "code": code,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
        },
    )


@pytest.fixture
def emulator_app():
    return make_emulator()


@pytest.fixture
def emulator(emulator_app):
    """The ``Emulator`` object (store, clock, limiter) behind the app."""
    return emulator_app.extensions[EXTENSION]


@pytest.fixture
def tl(emulator_app):
    """A Flask test client of the emulator."""
    return emulator_app.test_client()


@pytest.fixture
def tokens(tl) -> dict:
    """A token pair obtained through the real authorization-code flow."""
    response = exchange(tl, authorization_code(tl))
    assert response.status_code == 200, response.data
    return response.get_json()


@pytest.fixture
def api(tl, tokens):
    """``api("invoices.list", {...})`` → response, with the Bearer token."""

    def call(method: str, body: dict | None = None, token: str | None = None):
        headers = {"Authorization": f"Bearer {token or tokens['access_token']}"}
        return tl.post(f"/{method}", json=body if body is not None else {}, headers=headers)

    return call


@pytest.fixture
def data(api):
    """``data("invoices.list", {...})`` → the ``data`` member of a 200 answer."""

    def call(method: str, body: dict | None = None):
        response = api(method, body)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["data"]

    return call
