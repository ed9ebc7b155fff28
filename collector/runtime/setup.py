"""What every domain builds from the app's configuration: the token cipher, the
document store and the service's own public addresses.

Each domain has a ``setup`` module like this one that builds its clients from the
config; adapters (views, jobs, the CLI) call them and hand the clients to operations,
which never see the configuration.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from collector.core.crypto import TokenCipher
from collector.core.outbound import OutboundGuard
from collector.core.storage import DocumentStore, FolderStore


def cipher(app: Flask) -> TokenCipher:
    """Encrypts the tokens and secrets kept in the database (TOKEN_ENCRYPTION_KEY)."""
    return TokenCipher.from_config(app.config["TOKEN_ENCRYPTION_KEY"], app.config["SECRET_KEY"])


def outbound_guard(app: Flask) -> OutboundGuard:
    """Checks every URL that came from outside before we request it; the internal hosts
    in OUTBOUND_ALLOWED_HOSTS (the sandbox, never in production) pass."""
    return OutboundGuard.from_setting(app.config["OUTBOUND_ALLOWED_HOSTS"])


def document_store(app: Flask) -> DocumentStore:
    """Where PDFs are kept: the DOCUMENT_STORAGE folder (create_app fills in its default)."""
    return FolderStore(Path(app.config["DOCUMENT_STORAGE"]))


def public_url(app: Flask, path: str = "") -> str:
    """The address of ``path`` (starting with "/") as the outside world reaches us."""
    return app.config["PUBLIC_BASE_URL"].rstrip("/") + path
