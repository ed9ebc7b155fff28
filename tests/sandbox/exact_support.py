"""Helpers for the Exact Online emulator tests: an emulator app and a caller that went
through the real authorization-code flow."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sandbox.exact import create_app
from sandbox.exact.emulator import EXTENSION
from sandbox.exact.seed import guid

CLIENT_ID = "collector-sandbox"
CLIENT_SECRET = "sandbox-secret"
REDIRECT_URI = "https://collector.example/exact/callback"
CLOCK_START = "2026-03-15T10:00:00+00:00"
SEED = 7
DIVISION = 1234567
OTHER_DIVISION = 7654321


def make_app(**config):
    """An emulator app with a fixed clock and seed, so IDs and dates are stable."""
    return create_app({"SEED": SEED, "CLOCK_START": CLOCK_START, "TESTING": True, **config})


def seeded(kind: str, code: object, division: int = DIVISION) -> str:
    """The GUID of a seeded record (``"glaccount"``, ``"account"``, …) as a string."""
    return str(guid(SEED, division, kind, code))


class Caller:
    """A Flask test client of the emulator, with the OAuth steps and REST helpers."""

    def __init__(self, app, country: str = "be") -> None:
        self.app, self.country = app, country
        self.client = app.test_client()
        self.emulator = app.extensions[EXTENSION]
        self.tokens: dict = {}

    def authorize(self, redirect_uri: str = REDIRECT_URI, state: str = "s1", decision="authorize"):
        """Press a button on the consent page; return the redirect response."""
        return self.client.post(
            f"/{self.country}/api/oauth2/auth",
            data={
                "client_id": CLIENT_ID,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "state": state,
                "decision": decision,
            },
        )

    def code(self, redirect_uri: str = REDIRECT_URI) -> str:
        """A fresh authorization code, URL-decoded as a callback handler would."""
        response = self.authorize(redirect_uri)
        assert response.status_code == 302, response.data
        return parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]

    def token(self, **fields):
        """POST the token endpoint with the client credentials and ``fields``."""
        data = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **fields}
        return self.client.post(f"/{self.country}/api/oauth2/token", data=data)

    def exchange(self, code: str, redirect_uri: str = REDIRECT_URI):
        """The authorization-code grant."""
        return self.token(code=code, redirect_uri=redirect_uri, grant_type="authorization_code")

    def refresh(self, refresh_token: str):
        """The refresh-token grant."""
        return self.token(refresh_token=refresh_token, grant_type="refresh_token")

    def login(self) -> dict:
        """Go through consent and code exchange; keep and return the token pair."""
        response = self.exchange(self.code())
        assert response.status_code == 200, response.data
        self.tokens = response.get_json()
        return self.tokens

    def headers(self, accept_json: bool = True, **extra) -> dict:
        """Bearer (and ``Accept: application/json``) headers."""
        headers = {"Authorization": f"Bearer {self.tokens['access_token']}"}
        if accept_json:
            headers["Accept"] = "application/json"
        return {**headers, **extra}

    def url(self, path: str, division: int | None = DIVISION) -> str:
        """``/be/api/v1/{division}/{path}`` (or ``current/…`` with ``division=None``)."""
        prefix = f"/{self.country}/api/v1/"
        return f"{prefix}{path}" if division is None else f"{prefix}{division}/{path}"

    def get(self, path: str, params: dict | None = None, division=DIVISION, **kw):
        """GET a REST path."""
        headers = self.headers(**kw)
        return self.client.get(self.url(path, division), query_string=params, headers=headers)

    def post(self, path: str, body=None, prefer: bool = True, division=DIVISION, data=None):
        """POST JSON (or raw ``data``) to a REST path."""
        headers = self.headers(**({"Prefer": "return=representation"} if prefer else {}))
        url = self.url(path, division)
        if data is not None:
            headers["Content-Type"] = "application/json"
            return self.client.post(url, data=data, headers=headers)
        return self.client.post(url, json=body, headers=headers)

    def results(self, path: str, params: dict | None = None, division=DIVISION) -> list[dict]:
        """``d.results`` of a 200 list answer (one page)."""
        response = self.get(path, params, division)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["d"]["results"]

    def created(self, path: str, body: dict, division=DIVISION) -> dict:
        """``d`` of a 201 answer."""
        response = self.post(path, body, division=division)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["d"]


def logged_in(**config) -> Caller:
    """A caller with tokens, on a fresh emulator."""
    caller = Caller(make_app(**config))
    caller.login()
    return caller
