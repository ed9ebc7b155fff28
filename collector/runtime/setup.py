"""What every domain builds from the app's configuration: the token cipher, the
document store and the service's own public addresses.

Each domain has a ``setup`` module like this one that builds its clients from the
config; adapters (views, jobs, the CLI) call them and hand the clients to operations,
which never see the configuration.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask

from collector import config as config_module
from collector.core.crypto import TokenCipher
from collector.core.outbound import OutboundGuard
from collector.core.storage import DocumentStore, FolderStore

if TYPE_CHECKING:
    from collector.core.object_store import S3Settings


def cipher(app: Flask) -> TokenCipher:
    """Encrypts the tokens and secrets kept in the database (TOKEN_ENCRYPTION_KEY)."""
    return TokenCipher.from_config(app.config["TOKEN_ENCRYPTION_KEY"], app.config["SECRET_KEY"])


def outbound_guard(app: Flask) -> OutboundGuard:
    """Checks every URL that came from outside before we request it; the internal hosts
    in OUTBOUND_ALLOWED_HOSTS (the sandbox, never in production) pass."""
    return OutboundGuard.from_setting(app.config["OUTBOUND_ALLOWED_HOSTS"])


def document_store(app: Flask) -> DocumentStore:
    """Where PDFs, uploaded and bank files are kept: the DOCUMENT_STORAGE folder
    (create_app fills in its default) or, with STORAGE=s3, the S3_BUCKET."""
    kind = app.config.get("STORAGE") or "folder"
    if kind == "folder":
        return FolderStore(Path(app.config["DOCUMENT_STORAGE"]))
    if kind == "s3":
        return s3_store(app, s3_settings(app))
    raise ValueError(f"STORAGE must be one of {', '.join(config_module.STORAGES)}, not {kind!r}")


def s3_settings(app: Flask) -> S3Settings:
    """The S3_* settings (whatever STORAGE says: copy-to-s3 runs before the switch)."""
    from collector.core.object_store import S3Settings

    bucket = str(app.config.get("S3_BUCKET") or "").strip()
    if not bucket:
        raise ValueError("S3_BUCKET is not set")
    return S3Settings(
        bucket=bucket,
        prefix=str(app.config.get("S3_PREFIX") or ""),
        endpoint_url=str(app.config.get("S3_ENDPOINT_URL") or "") or None,
        region=str(app.config.get("S3_REGION") or "") or None,
    )


def s3_store(app: Flask, settings: S3Settings) -> DocumentStore:
    """The bucket of ``settings`` as a document store."""
    # One client per process and settings: building one costs milliseconds and its
    # connection pool is worth keeping; after a fork (an rq job) the child builds its own.
    # boto3 is imported only here, so the folder store's processes never load it.
    from collector.core.object_store import S3Store

    stores = app.extensions.setdefault("collector.s3_stores", {})
    slot = (os.getpid(), settings)
    if slot not in stores:
        stores[slot] = S3Store.from_settings(settings)
    return stores[slot]


def storage_problem(app: Flask) -> str | None:
    """Why the document store cannot be used, or None: the bucket answers (STORAGE=s3), or
    the folder can be written to."""
    kind = app.config.get("STORAGE") or "folder"
    if kind == "s3":
        from collector.core.object_store import bucket_problem

        try:
            return bucket_problem(s3_settings(app))
        except ValueError as exc:
            return f"STORAGE=s3: {exc}."
    if kind != "folder":
        return f"STORAGE ({kind}) must be folder or s3."
    root = Path(app.config["DOCUMENT_STORAGE"])
    existing = next((p for p in (root, *root.parents) if p.exists()), root)
    if not os.access(existing, os.W_OK):
        return f"DOCUMENT_STORAGE ({root}) cannot be written to by this user."
    return None


def public_url(app: Flask, path: str = "") -> str:
    """The address of ``path`` (starting with "/") as the outside world reaches us."""
    return app.config["PUBLIC_BASE_URL"].rstrip("/") + path
