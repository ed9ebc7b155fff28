"""How the audit log's actions read on the page and in the export, per language, and the
groups its filter offers. An action nobody worded yet shows its dotted name."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Group:
    label: LazyString
    prefixes: tuple[str, ...]  # the actions whose name starts with one of these


GROUPS = {
    "logins": Group(_l("Logins and users"), ("login.", "logout", "user.", "session.", "password.")),
    "api_keys": Group(_l("API keys"), ("api_key.",)),
    "settings": Group(_l("Settings and connections"), ("settings.", "teamleader.", "exact.")),
    "profiles": Group(_l("Payment profiles"), ("profile.",)),
    "dunning": Group(_l("Dunning steps and mail texts"), ("dunning.", "mail_text.")),
    "documents": Group(_l("Documents"), ("invoice.",)),
    "holds": Group(_l("Holds"), ("hold.",)),
    "mandates": Group(_l("Mandates"), ("mandate.",)),
    "direct_debit": Group(_l("Collection runs and bank files"), ("collection_run.", "bank_file.")),
    "callbacks": Group(_l("Status callbacks"), ("callback_endpoint.",)),
}

ACTIONS = {
    "login.succeeded": _l("Logged in"),
    "login.failed": _l("Login failed"),
    "login.throttled": _l("Login refused: too many attempts"),
    "logout": _l("Logged out"),
    "user.created": _l("User invited"),
    "user.role_changed": _l("Role changed"),
    "user.deactivated": _l("User deactivated"),
    "user.reactivated": _l("User reactivated"),
    "user.password_reset_sent": _l("Password link sent"),
    "user.password_changed": _l("Password changed"),
    "api_key.created": _l("API key created"),
    "api_key.revoked": _l("API key revoked"),
    "settings.changed": _l("Settings changed"),
    "teamleader.connected": _l("Teamleader connected"),
    "teamleader.disconnected": _l("Teamleader disconnected"),
    "exact.connected": _l("Exact Online connected"),
    "exact.disconnected": _l("Exact Online disconnected"),
    "profile.created": _l("Payment profile created"),
    "profile.changed": _l("Payment profile changed"),
    "profile.deleted": _l("Payment profile deleted"),
    "dunning.steps_changed": _l("Dunning steps changed"),
    "mail_text.changed": _l("Mail text changed"),
    "mail_text.reset": _l("Mail text reset to the default"),
    "invoice.marked_paid": _l("Marked paid by hand"),
    "invoice.archived": _l("Document archived"),
    "invoice.overpayment_kept": _l("Overpayment kept"),
    "hold.placed": _l("Hold placed"),
    "hold.lifted": _l("Hold lifted"),
    "mandate.revoked": _l("Mandate revoked"),
    "mandate.upload_committed": _l("Mandates CSV committed"),
    "collection_run.approved": _l("Collection run approved"),
    "collection_run.sent": _l("Collection run marked as sent to the bank"),
    "collection_run.cancelled": _l("Collection run cancelled"),
    "bank_file.imported": _l("Bank file imported"),
    "callback_endpoint.created": _l("Status callback endpoint added"),
    "callback_endpoint.changed": _l("Status callback endpoint changed"),
    "callback_endpoint.deleted": _l("Status callback endpoint removed"),
}

# What ``settings.changed`` changed: its ``area`` detail.
AREAS = {
    "company": _l("Time zone"),
    "creditor": _l("Creditor"),
    "entity": _l("Company entity"),
    "logo": _l("Logo"),
    "teamleader": _l("Teamleader"),
    "exact": _l("Exact Online"),
    "payments": _l("Online payments"),
}

CSV_HEADER = (
    _l("Time"),
    _l("Actor"),
    _l("Action"),
    _l("Description"),
    _l("Target"),
    _l("Details"),
    _l("Address"),
)


def describe(action: str) -> str | LazyString:
    """The action in the reader's language, or its dotted name when it has no wording."""
    return ACTIONS.get(action, action)


def area(details: dict[str, Any]) -> str | LazyString | None:
    name = details.get("area")
    return AREAS.get(name, name) if name else None


def details_text(details: dict[str, Any] | None) -> str:
    """The details as one line: ``name: value; …`` (lists joined by commas)."""
    parts = []
    for name, value in (details or {}).items():
        if value is None:
            continue
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        elif isinstance(value, dict):
            value = json.dumps(value, ensure_ascii=False, sort_keys=True)
        parts.append(f"{name}: {value}")
    return "; ".join(parts)


def header() -> list[str]:
    return [str(name) for name in CSV_HEADER]
