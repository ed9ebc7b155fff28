"""Connecting to Exact Online: OAuth on the country's host, the administration, the tokens.

Exact's refresh tokens are single use and rotate (reference §1.5): two workers refreshing at
once kill the connection ("Old refresh token used"). Exact also refuses a refresh while the
access token is younger than about 570 s (§1.4). The tokens are read, refreshed (once due or
after a 401, under a row lock, after re-reading the row) and stored by the one mechanism
every OAuth connection shares (``collector.runtime.oauth_connection``); ``ExactTokenSource``
names Exact's texts in it and keeps an idle connection's refresh token alive.

Exact rotates the refresh token the moment it answers, so the new pair must be written
before anything else can fail: the refresh takes the write lock on the stored tokens
*before* it spends the refresh token, and gives up (nothing spent) if it cannot get it in
time — e.g. because the caller itself holds the row or, on SQLite, the database in an open
transaction. The forwarding run therefore never calls out with a write of its own pending.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from collector.accounts import audit
from collector.accounts.models import User
from collector.core.crypto import TokenCipher
from collector.core.oauth import ConnectionStatus
from collector.exact import ExactClient, ExactError, ExactOAuth, StaticTokenSource
from collector.exact.auth import TOKEN_PATH
from collector.exact.errors import Unavailable
from collector.exact.models import ExactConnection
from collector.extensions import db
from collector.runtime import oauth_connection
from collector.runtime.oauth_connection import ConnectFailed, StoredTokenSource

# An unused refresh token dies after 30 days (reference §1.5): refresh a connection that has
# been idle this long, so a quiet month never costs a reconnect.
KEEP_ALIVE_AFTER = timedelta(days=7)

# How long a refresh waits for the lock on the stored tokens: longer than another worker's own
# token request may take (its timeouts, 5 s + 30 s), so a worker refreshing is waited for. A
# lock still held after that is held by something that will not let go while we wait.
TOKEN_LOCK_WAIT = timedelta(seconds=40)
LAST_ERROR_MAX = 500
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when lock_timeout runs out

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
    audit.record("exact.connected", details={"country": country, "as": connection.user_email})
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
    audit.record("exact.disconnected", details={"division": connection.division})
    db.session.commit()


def ensure_connected(connection: ExactConnection | None) -> ExactConnection:
    """``connection`` if it may be used, else Conflict."""
    return oauth_connection.require_connected(connection, "Exact Online")


class ExactTokenSource(StoredTokenSource):
    """Access tokens of the stored Exact connection, refreshed once per stale token: once
    fewer than ``REFRESH_BEFORE_EXPIRY`` remain (earlier, Exact refuses it as too early), or
    after Exact refused the token (401)."""

    model = ExactConnection
    reconnect_note = "Exact Online refused the refresh token: {error}; connect again."
    failure_message = "Exact Online token refresh failed: {error}"
    settings_page = "exact.index"
    every_refusal_is_auth_error = True
    lock_wait = TOKEN_LOCK_WAIT

    def _row(self, session: Session, *, lock: bool) -> ExactConnection:
        # The refresh's re-read: take the write lock first, so the refresh token is only spent
        # when the new pair can surely be stored.
        if lock:
            self._lock_for_writing(session)
        return super()._row(session, lock=lock)

    def _lock_for_writing(self, session: Session) -> None:
        """Hold the write lock (bounded wait) before anything else happens in ``session``."""
        connection = session.connection()
        wait_ms = int(self.lock_wait.total_seconds() * 1000)
        try:
            if connection.dialect.name == "sqlite":
                # SQLite has one writer and no row locks: claim the writer's lock now (BEGIN
                # IMMEDIATE), not at the UPDATE after Exact has already rotated the tokens.
                # The commit then waits only for readers, which hold the file for a statement.
                previous = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
                connection.exec_driver_sql(f"PRAGMA busy_timeout = {wait_ms}")
                try:
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
                finally:
                    connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(previous or 0)}")
            elif connection.dialect.name == "postgresql":
                # The SELECT … FOR UPDATE that follows waits at most this long.
                connection.exec_driver_sql(f"SET LOCAL lock_timeout = {wait_ms}")
        except sa.exc.OperationalError as exc:
            raise self._lock_unavailable() from exc

    def _lock_unavailable(self) -> Unavailable:
        return Unavailable(
            f"{TOKEN_PATH}: the stored Exact Online tokens stayed locked for "
            f"{int(self.lock_wait.total_seconds())} s; nothing was refreshed",
            endpoint=TOKEN_PATH,
        )

    def _refresh(self, stale_token: str, *, after_refusal: bool) -> str:
        try:
            return super()._refresh(stale_token, after_refusal=after_refusal)
        except sa.exc.OperationalError as exc:
            # PostgreSQL's lock_timeout ran out on the row lock, before Exact was asked.
            if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            raise self._lock_unavailable() from exc

    def _refused(self, row: ExactConnection, exc: Exception) -> Exception:
        """As every connection does, with Exact's own words for why (shown on the page)."""
        error = super()._refused(row, exc)
        if row.status == ConnectionStatus.RECONNECT_NEEDED:
            note = self.reconnect_note.format(error=self.oauth.refusal_reason(exc))
            row.last_error = note[:LAST_ERROR_MAX]
        return error

    def keep_alive(self, idle_for: timedelta = KEEP_ALIVE_AFTER) -> bool:
        """Refresh a connection idle for ``idle_for`` (once due), so its refresh token lives."""
        with Session(db.engine) as session:
            issued = self._row(session, lock=False).token_issued_at
        if issued is not None and self.clock() - issued < idle_for:
            return False
        self.access_token()
        return True
