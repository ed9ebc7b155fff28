"""Connecting to Teamleader Focus: OAuth, the token pair at rest, webhooks, settings.

Refresh tokens are single use (reference §1, §15.1): two workers refreshing at
once would burn the pair and lose the connection. ``DbTokenSource`` therefore
refreshes under a row lock and re-reads the stored pair first, so whoever comes
second simply uses the token the first one stored.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from collector.accounts import company
from collector.accounts.models import User
from collector.core.columns import utcnow
from collector.core.crypto import TokenCipher
from collector.core.errors import Conflict, Invalid, ServiceError
from collector.documents.models import Profile
from collector.extensions import db
from collector.teamleader import (
    AuthError,
    OAuthError,
    StaticTokenSource,
    TeamleaderClient,
    TeamleaderError,
    TeamleaderOAuth,
    TokenPair,
    TokenSource,
    is_invalid_grant,
)
from collector.teamleader.models import ConnectionStatus, TeamleaderConnection

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


class ConnectFailed(ServiceError):
    """Connecting did not complete; nothing was stored."""


def current_connection() -> TeamleaderConnection | None:
    """The installation's Teamleader connection (connected or needing a reconnect)."""
    return db.session.scalars(
        db.select(TeamleaderConnection)
        .where(TeamleaderConnection.status != ConnectionStatus.DISCONNECTED)
        .order_by(TeamleaderConnection.id)
    ).first()


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
    try:
        pair = oauth.exchange_code(code)
    except OAuthError as exc:
        raise ConnectFailed(f"Teamleader refused the authorization ({exc.error or exc}).") from exc
    except TeamleaderError as exc:
        raise ConnectFailed(f"Teamleader could not be reached: {exc}") from exc
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
    token = connection.webhook_token or secrets.token_urlsafe(32)
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
    connection.connected_at = utcnow()
    connection.connected_by_id = getattr(user, "id", None)
    connection.status = ConnectionStatus.CONNECTED
    connection.last_error = None
    if not connection.import_department_ids:
        connection.import_department_ids = [d["id"] for d in departments]
    store_tokens(connection, pair, cipher)
    db.session.add(connection)
    db.session.commit()
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


def disconnect(connection: TeamleaderConnection, client: TeamleaderClient | None) -> None:
    """Unregister our webhooks (when Teamleader still lets us) and forget the tokens."""
    if client is not None and connection.webhook_url:
        try:
            client.webhooks_unregister(connection.webhook_url, WEBHOOK_TYPES)
        except TeamleaderError as exc:
            # The user may have revoked us already; the tokens go regardless.
            log.warning("unregistering Teamleader webhooks failed: %s", exc)
    connection.status = ConnectionStatus.DISCONNECTED
    connection.access_token_enc = None
    connection.refresh_token_enc = None
    connection.access_expires_at = None
    connection.webhook_url = None
    db.session.commit()


def store_tokens(connection: TeamleaderConnection, pair: TokenPair, cipher: TokenCipher) -> None:
    connection.access_token_enc = cipher.encrypt(pair.access_token)
    connection.refresh_token_enc = cipher.encrypt(pair.refresh_token)
    connection.access_expires_at = pair.expires_at
    connection.refreshed_at = utcnow()


class DbTokenSource:
    """Access tokens of one stored connection, refreshed at most once per stale token.

    Each refresh runs in a session of its own holding ``SELECT … FOR UPDATE`` on
    the connection row, so it neither disturbs the caller's transaction nor races
    another worker (PostgreSQL; SQLite serialises writers anyway).
    """

    def __init__(
        self,
        connection_id: int,
        oauth: TeamleaderOAuth,
        cipher: TokenCipher,
        *,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.connection_id = connection_id
        self.oauth = oauth
        self.cipher = cipher
        self.clock = clock
        self._cached: tuple[str, datetime] | None = None  # (token, expires at)

    def access_token(self) -> str:
        # Every API call asks; a token still valid is kept in memory instead of
        # costing a database read per call, until it expires or is refused.
        if self._cached and self._cached[1] > self.clock():
            return self._cached[0]
        with Session(db.engine) as session:
            row = self._row(session, lock=False)
            token = self.cipher.decrypt(row.access_token_enc)
            if row.access_expires_at and row.access_expires_at > self.clock():
                self._cached = (token, row.access_expires_at)
                return token
        return self.refresh(token)

    def refresh(self, stale_token: str) -> str:
        refused: OAuthError | None = None
        self._cached = None
        with Session(db.engine) as session, session.begin():
            row = self._row(session, lock=True)
            current = self.cipher.decrypt(row.access_token_enc)
            fresh = row.access_expires_at and row.access_expires_at > self.clock()
            if current != stale_token and fresh:
                # Another worker refreshed while we waited for the lock.
                self._cached = (current, row.access_expires_at)
                return current
            try:
                pair = self.oauth.refresh(self.cipher.decrypt(row.refresh_token_enc))
            except OAuthError as exc:
                if not (is_invalid_grant(exc) or exc.status in (400, 401)):
                    raise
                # Committed with the block: the UI shows "reconnect needed".
                row.status = ConnectionStatus.RECONNECT_NEEDED
                row.last_error = "Teamleader refused the refresh token; connect again."
                refused = exc
            else:
                store_tokens(row, pair, self.cipher)
                self._cached = (pair.access_token, pair.expires_at)
        if refused is not None:
            message = "the Teamleader connection must be reconnected"
            raise AuthError(message, status=401) from refused
        return pair.access_token

    def _row(self, session: Session, *, lock: bool) -> TeamleaderConnection:
        query = db.select(TeamleaderConnection).where(TeamleaderConnection.id == self.connection_id)
        if lock:
            query = query.with_for_update()
        row = session.scalars(query).one_or_none()
        if row is None or row.status != ConnectionStatus.CONNECTED or not row.access_token_enc:
            raise AuthError("Teamleader is not connected", status=401)
        return row


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
    if errors:
        raise Invalid(errors)
    connection.import_department_ids = departments
    connection.default_profile_id = profile_id
    connection.auto_import = bool(data.get("auto_import"))
    connection.invoice_profile_field_id = data.get("invoice_profile_field_id") or None
    connection.subscription_profile_field_id = data.get("subscription_profile_field_id") or None
    connection.strict_mode_confirmed = bool(data.get("strict_mode_confirmed"))
    connection.payment_method_id = method_id
    db.session.commit()
    return connection


def active_payment_methods(connection: TeamleaderConnection) -> list[dict]:
    """The account's payment methods our payments may be registered with."""
    return [m for m in connection.payment_methods or [] if m.get("status") != "archived"]


def ensure_connected(connection: TeamleaderConnection | None) -> TeamleaderConnection:
    if connection is None or connection.status != ConnectionStatus.CONNECTED:
        raise Conflict("Teamleader is not connected.")
    return connection
