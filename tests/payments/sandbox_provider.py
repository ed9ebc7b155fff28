"""The payment provider emulator on a real port, for the payments tests that drive it."""

from __future__ import annotations

import socket
import threading

import requests
from werkzeug.serving import make_server

from collector.payments import ProviderClient
from sandbox.provider import create_app as create_provider

KEY = "test_sandbox"


class Sandbox:
    """The provider emulator on a real port, its control API, and a client of its API."""

    def __init__(self) -> None:
        # Webhooks go to a closed port on this machine: allowed, and answered at once.
        app = create_provider({"ALLOW_LOCAL_WEBHOOKS": True})
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.01,))
        self.thread.start()
        self.root = f"http://127.0.0.1:{self.server.server_port}"
        self.client = ProviderClient(requests.Session(), f"{self.root}/v2", KEY, timeout=10)

    def control(self, path: str, body: dict | None = None) -> dict:
        response = requests.post(f"{self.root}/_control/{path}", json=body or {}, timeout=10)
        assert response.ok, response.text
        return response.json()["data"]

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/webhooks/provider"
