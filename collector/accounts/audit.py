"""The audit log: ``record`` one row per admin action or login, in the caller's
transaction, so the row exists exactly when the change it tells of was committed. A failed
login changes nothing, so its caller commits the row itself."""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context, request
from flask_login import current_user

from collector.accounts.models import AuditEvent
from collector.extensions import db

# Keys whose values are never written to the log, whatever the caller passes.
SECRET_WORDS = ("password", "secret", "token", "key_hash", "api_key", "code")


def actor_now() -> str:
    """Who acts in this request: the logged-in person, the API key, or the system."""
    if has_request_context():
        key = g.get("api_key")
        if key is not None:
            return f"api:{key.name}"
        if current_user and current_user.is_authenticated:
            return f"user:{current_user.email}"
    return "system"


def record(
    action: str,
    *,
    target: str = "",
    details: dict[str, Any] | None = None,
    actor: str | None = None,
) -> AuditEvent:
    """Add one audit row to the session (the caller commits it with its change)."""
    row = AuditEvent(
        action=action,
        target=target or "",
        actor=(actor or actor_now())[:254],
        details=_without_secrets(details or {}),
        remote_addr=request.remote_addr if has_request_context() else None,
    )
    db.session.add(row)
    return row


def _without_secrets(details: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for name, value in details.items():
        if any(word in name.lower() for word in SECRET_WORDS):
            continue
        if isinstance(value, dict):
            value = _without_secrets(value)
        elif not isinstance(value, str | int | float | bool | list | type(None)):
            value = str(value)
        clean[name] = value
    return clean
