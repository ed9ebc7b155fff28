"""Connecting to Exact Online: OAuth on the country's host, the administration, the tokens.

Exact's refresh tokens are single use and rotate (reference §1.5): two workers refreshing at
once kill the connection ("Old refresh token used"). Exact also refuses a refresh while the
access token is younger than about 570 s (§1.4). The tokens are read, refreshed (only once
due, under a row lock, after re-reading the row) and stored by the one mechanism every OAuth
connection shares (``collector.runtime.oauth_connection``); ``ExactTokenSource`` names
Exact's texts in it and keeps an idle connection's refresh token alive.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.orm import Session

from collector.accounts.models import User
from collector.core.crypto import TokenCipher
from collector.core.oauth import ConnectionStatus
from collector.exact import ExactClient, ExactError, ExactOAuth, StaticTokenSource
from collector.exact.models import ExactConnection
from collector.extensions import db
from collector.runtime import oauth_connection
from collector.runtime.oauth_connection import ConnectFailed, StoredTokenSource

# An unused refresh token dies after 30 days (reference §1.5): refresh a connection that has
# been idle this long, so a quiet month never costs a reconnect.
KEEP_ALIVE_AFTER = timedelta(days=7)

ClientFactory = Callable[..., ExactClient]  # (token_source, host, division) -> ExactClient


def current_exact() -> ExactConnection | None:
    """The installation's Exact connection (connected or needing a reconnect)."""
    return oauth_connection.current(ExactConnection)


def complete_connect(
    oauth: ExactOAuth,
    make_client: ClientFactory,
    cipher: TokenCipher,
    code: str,
    user: User | None,
    *,
    country: str,
    host: str,
) -> ExactConnection:
    """Trade ``code`` for tokens, read the user and the administrations, then store it all.

    Everything is read before anything is written, so a failure leaves nothing half-stored.
    The administration is chosen afterwards (``choose_division``).
    """
    pair = oauth_connection.exchange_code(oauth, code)
    client = make_client(StaticTokenSource(pair.access_token), host, None)
    try:
        me = client.me()
        divisions = [
            {
                "code": int(d["Code"]),
                "name": d.get("Description") or str(d["Code"]),
                "country": d.get("Country"),
                "currency": d.get("Currency"),
            }
            for d in client.divisions()
        ]
    except ExactError as exc:
        raise ConnectFailed(f"Reading the Exact Online user failed: {exc}") from exc
    if not divisions:
        raise ConnectFailed("This Exact Online user has no administration we may use.")
    connection = current_exact()
    if connection is not None and connection.exact_user_id != str(me["UserID"]):
        # Another user's consent: its administrations and mappings may differ; start afresh.
        connection.status = ConnectionStatus.DISCONNECTED
        connection = None
    connection = connection or ExactConnection(exact_user_id=str(me["UserID"]))
    connection.country = country
    connection.host = host
    connection.user_name = me.get("FullName") or ""
    connection.user_email = me.get("Email")
    connection.choices = {**(connection.choices or {}), "divisions": divisions}
    if connection.division not in {d["code"] for d in divisions}:
        connection.division = None
        connection.division_name = None
    oauth_connection.mark_connected(connection, pair, cipher, user)
    db.session.add(connection)
    db.session.commit()
    return connection


def suggested_division(connection: ExactConnection, me_division: int | None = None) -> int | None:
    """The administration to preselect: the stored one, else the only one."""
    divisions = (connection.choices or {}).get("divisions") or []
    if connection.division:
        return connection.division
    if me_division and me_division in {d["code"] for d in divisions}:
        return me_division
    return divisions[0]["code"] if len(divisions) == 1 else None


def disconnect(connection: ExactConnection) -> None:
    """Forget the tokens; bookings made so far stay recorded (and in Exact)."""
    oauth_connection.forget_tokens(connection)
    connection.forwarding = False
    db.session.commit()


def ensure_connected(connection: ExactConnection | None) -> ExactConnection:
    """``connection`` if it may be used, else Conflict."""
    return oauth_connection.require_connected(connection, "Exact Online")


class ExactTokenSource(StoredTokenSource):
    """Access tokens of the stored Exact connection, refreshed once per stale token and only
    once fewer than ``REFRESH_BEFORE_EXPIRY`` remain (earlier, Exact refuses it as too early)."""

    model = ExactConnection
    reconnect_note = "Exact Online refused the refresh token ({error}); connect again."
    failure_message = "Exact Online token refresh failed: {error}"
    every_refusal_is_auth_error = True

    def keep_alive(self, idle_for: timedelta = KEEP_ALIVE_AFTER) -> bool:
        """Refresh a connection idle for ``idle_for`` (once due), so its refresh token lives."""
        with Session(db.engine) as session:
            issued = self._row(session, lock=False).token_issued_at
        if issued is not None and self.clock() - issued < idle_for:
            return False
        self.access_token()
        return True
