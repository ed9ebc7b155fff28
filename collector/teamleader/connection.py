"""Connecting to Teamleader Focus: OAuth, the token pair at rest, webhooks, settings.

The tokens are read, refreshed and stored by the one mechanism every OAuth connection
shares (``collector.runtime.oauth_connection``); ``DbTokenSource`` names Teamleader's
texts in it.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

from collector.accounts import audit, audit_changes, company
from collector.accounts.models import User
from collector.core.crypto import TokenCipher
from collector.core.errors import Invalid
from collector.documents.held_mail import MAX_HOLD_AFTER_DAYS
from collector.documents.models import Profile
from collector.extensions import db
from collector.runtime import oauth_connection
from collector.runtime.oauth_connection import ConnectFailed, StoredTokenSource
from collector.teamleader import (
    StaticTokenSource,
    TeamleaderClient,
    TeamleaderError,
    TeamleaderOAuth,
    TokenSource,
)
from collector.teamleader.models import TeamleaderConnection

log = logging.getLogger(__name__)

# The events later steps act on (DESIGN §1.3); all are in webhooks.register's enum.
WEBHOOK_TYPES = (
    "invoice.booked",
    "invoice.updated",
    "invoice.paymentRegistered",
    "invoice.paymentRemoved",
    "creditNote.booked",
    "contact.updated",
    "company.updated",
)
PROFILE_FIELD_CONTEXTS = ("invoice", "subscription")

ClientFactory = Callable[[TokenSource, str | None], TeamleaderClient]


def current_connection() -> TeamleaderConnection | None:
    """The installation's Teamleader connection (connected or needing a reconnect)."""
    return oauth_connection.current(TeamleaderConnection)


def department_names() -> dict[str, str]:
    """Teamleader department ids to their names, as read when connecting (none if not)."""
    connection = current_connection()
    return {d["id"]: d["name"] for d in (connection.departments if connection else [])}


def creditor_name(names: dict[str, str], department_id: str | None) -> str:
    """Who issued a document: its department's name, else the first department's."""
    return names.get(department_id or "", next(iter(names.values()), ""))


def webhook_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/webhooks/teamleader/{token}"


def complete_connect(
    oauth: TeamleaderOAuth,
    make_client: ClientFactory,
    cipher: TokenCipher,
    code: str,
    user: User | None,
    public_base_url: str,
) -> TeamleaderConnection:
    """Trade ``code`` for tokens, read the account, register webhooks, then store it all.

    Everything is read and registered before anything is written, so a failure
    leaves no half-stored connection.
    """
    pair = oauth_connection.exchange_code(oauth, code)
    client = make_client(StaticTokenSource(pair.access_token), None)
    try:
        me = client.users_me()
        departments = [
            {"id": d["id"], "name": d["name"], "currency": d.get("currency")}
            for d in client.departments_list()
        ]
        custom_fields = [
            {
                "id": f["id"],
                "label": f["label"],
                "context": f["context"],
                "type": f["type"],
                # To read a value that is an option id rather than its label (§9 [?]).
                "options": f["options"],
            }
            for f in client.custom_field_definitions_list()
            if f.get("context") in PROFILE_FIELD_CONTEXTS
        ]
        # Our payments are registered with one of these (§6.5), chosen in the settings.
        payment_methods = [
            {"id": m["id"], "name": m["name"], "status": m.get("status")}
            for m in client.payment_methods_list()
        ]
    except TeamleaderError as exc:
        raise ConnectFailed(f"Reading the Teamleader account failed: {exc}") from exc
    connection = _connection_for(me["account_id"])
    # A new token on every connect: an address that leaked (a log, a former admin) stops
    # working at the next reconnect; the old one is unregistered below.
    old_url = connection.webhook_url
    token = secrets.token_urlsafe(32)
    url = webhook_url(public_base_url, token)
    try:
        _register_webhooks(client, url)
    except TeamleaderError as exc:
        db.session.rollback()
        raise ConnectFailed(f"Registering webhooks in Teamleader failed: {exc}") from exc
    connection.webhook_token = token
    connection.webhook_url = url
    connection.user_name = " ".join(filter(None, [me.get("first_name"), me.get("last_name")]))
    connection.user_email = me.get("email")
    connection.departments = departments
    connection.custom_fields = custom_fields
    connection.payment_methods = payment_methods
    if not connection.import_department_ids:
        connection.import_department_ids = [d["id"] for d in departments]
    oauth_connection.mark_connected(connection, pair, cipher, user)
    db.session.add(connection)
    details = {"account": connection.account_id, "as": connection.user_email}
    audit.record("teamleader.connected", details=details)
    db.session.commit()
    if old_url and old_url != url:
        _unregister_webhooks(client, old_url)
    company.adopt_teamleader_zone(me.get("time_zone"))
    return connection


def _connection_for(account_id: str) -> TeamleaderConnection:
    current = current_connection()
    if current is not None and current.account_id != account_id:
        raise ConnectFailed(
            "Another Teamleader account is connected; disconnect it before connecting this one."
        )
    existing = db.session.scalars(
        db.select(TeamleaderConnection).filter_by(account_id=account_id)
    ).first()
    return existing or TeamleaderConnection(account_id=account_id)


def _register_webhooks(client: TeamleaderClient, url: str) -> None:
    registered = {w["url"]: set(w["types"]) for w in client.webhooks_list()}
    if not set(WEBHOOK_TYPES) <= registered.get(url, set()):
        client.webhooks_register(url, WEBHOOK_TYPES)


def _unregister_webhooks(client: TeamleaderClient, url: str) -> None:
    try:
        client.webhooks_unregister(url, WEBHOOK_TYPES)
    except TeamleaderError as exc:
        # The user may have revoked us already; our token is gone regardless, so what
        # Teamleader still calls there is answered 404.
        log.warning("unregistering Teamleader webhooks failed: %s", exc)


def disconnect(connection: TeamleaderConnection, client: TeamleaderClient | None) -> None:
    """Unregister our webhooks (when Teamleader still lets us) and forget the tokens."""
    if client is not None and connection.webhook_url:
        _unregister_webhooks(client, connection.webhook_url)
    oauth_connection.forget_tokens(connection)
    connection.webhook_url = None
    audit.record("teamleader.disconnected", details={"account": connection.account_id})
    db.session.commit()


class DbTokenSource(StoredTokenSource):
    """Access tokens of the stored Teamleader connection, refreshed at most once per stale
    token; a 400/401 of the refresh marks the connection "reconnect needed"."""

    model = TeamleaderConnection
    reconnect_note = "Teamleader refused the refresh token; connect again."
    failure_message = "the Teamleader connection must be reconnected"
    settings_page = "integrations.teamleader"
    every_refusal_is_auth_error = False


SETTINGS_FIELDS = (
    "import_department_ids",
    "default_profile_id",
    "auto_import",
    "invoice_profile_field_id",
    "subscription_profile_field_id",
    "strict_mode_confirmed",
    "payment_method_id",
    "hold_mail_after_days",
)


def update_settings(connection: TeamleaderConnection, data: dict) -> TeamleaderConnection:
    """Save the integration settings after checking them against what Teamleader offers."""
    errors: dict[str, list[str]] = {}
    known_departments = {d["id"] for d in connection.departments or []}
    departments = list(data.get("import_department_ids") or [])
    if not set(departments) <= known_departments:
        errors["import_department_ids"] = ["Choose departments of the connected account."]
    elif not departments:
        errors["import_department_ids"] = ["Choose at least one department to import."]
    profile_id = data.get("default_profile_id")
    if profile_id is not None and db.session.get(Profile, profile_id) is None:
        errors["default_profile_id"] = ["Choose an existing profile."]
    for name, context in (
        ("invoice_profile_field_id", "invoice"),
        ("subscription_profile_field_id", "subscription"),
    ):
        value = data.get(name) or None
        if value and value not in {f["id"] for f in connection.custom_fields_for(context)}:
            errors[name] = [f"Choose a custom field of the {context} context."]
    method_id = data.get("payment_method_id") or None
    if method_id and method_id not in {m["id"] for m in active_payment_methods(connection)}:
        errors["payment_method_id"] = ["Choose an active payment method of the account."]
    if data.get("auto_import") and profile_id is None:
        errors["default_profile_id"] = ["Automatic import needs a default profile."]
    hold_days = data.get("hold_mail_after_days")
    hold_days = connection.hold_mail_after_days if hold_days is None else hold_days
    if not isinstance(hold_days, int) or not 0 <= hold_days <= MAX_HOLD_AFTER_DAYS:
        errors["hold_mail_after_days"] = ["Give a number of days from 0 to 365."]
    if errors:
        raise Invalid(errors)
    before = audit_changes.snapshot(connection, SETTINGS_FIELDS)
    connection.import_department_ids = departments
    connection.default_profile_id = profile_id
    connection.auto_import = bool(data.get("auto_import"))
    connection.invoice_profile_field_id = data.get("invoice_profile_field_id") or None
    connection.subscription_profile_field_id = data.get("subscription_profile_field_id") or None
    connection.strict_mode_confirmed = bool(data.get("strict_mode_confirmed"))
    connection.payment_method_id = method_id
    connection.hold_mail_after_days = hold_days
    audit_changes.record_changes("settings.changed", before, connection, area="teamleader")
    db.session.commit()
    return connection


def active_payment_methods(connection: TeamleaderConnection) -> list[dict]:
    """The account's payment methods our payments may be registered with."""
    return [m for m in connection.payment_methods or [] if m.get("status") != "archived"]


def ensure_connected(connection: TeamleaderConnection | None) -> TeamleaderConnection:
    """``connection`` if it may be used, else Conflict."""
    return oauth_connection.require_connected(connection, "Teamleader")
