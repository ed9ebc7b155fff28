"""A person at the web app: logs in through the login form (with its CSRF token), loads
pages, presses buttons; and a customer on a payment page pressing "Pay online".

The app runs in production mode, so its session cookie is ``Secure``; on loopback there is
no TLS, so the browser sends its cookies itself (requests would keep a secure cookie from an
``http://`` URL): a browser behind a TLS-terminating proxy sees the same cookie.
"""

from __future__ import annotations

import re

import requests

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TIMEOUT = 15


class Browser:
    """One browser session against the web app at ``base``."""

    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()

    def _cookies(self) -> dict[str, str]:
        cookies = "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)
        return {"Cookie": cookies} if cookies else {}

    def get(self, path: str) -> requests.Response:
        return self.http.get(
            self.base + path, headers=self._cookies(), timeout=TIMEOUT, allow_redirects=False
        )

    def csrf(self, path: str) -> str:
        """The CSRF token of the form on ``path`` (Flask-WTF: one per session)."""
        page = self.get(path)
        match = CSRF.search(page.text)
        if match is None:
            raise RuntimeError(f"no CSRF token on {path} (HTTP {page.status_code})")
        return match.group(1)

    def post(self, path: str, data: dict | list, token_from: str) -> requests.Response:
        """Submit a form the way the page at ``token_from`` would."""
        token = self.csrf(token_from)
        fields = list(data.items()) if isinstance(data, dict) else list(data)
        return self.http.post(
            self.base + path,
            data=[("csrf_token", token), *fields],
            headers=self._cookies(),
            timeout=TIMEOUT,
            allow_redirects=False,
        )

    def log_in(self, email: str, password: str) -> None:
        answer = self.post("/login", {"email": email, "password": password}, "/login")
        if answer.status_code != 302:
            raise RuntimeError(f"login answered HTTP {answer.status_code}")

    def pay_online(self, token: str) -> None:
        """The customer presses "Pay online" on the payment page (the app creates the
        payment at the provider and sends the customer to its checkout)."""
        answer = self.post(f"/pay/{token}/online", {}, f"/pay/{token}")
        if answer.status_code != 303:
            raise RuntimeError(f"Pay online answered HTTP {answer.status_code}")
