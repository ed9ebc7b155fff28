"""Connecting to Exact Online: OAuth on the country's host, the administration, the tokens.

Exact's refresh tokens are single use and rotate (reference §1.5): two workers refreshing at
once kill the connection ("Old refresh token used"). Exact also refuses a refresh while the
access token is younger than about 570 s (§1.4). ``ExactTokenSource`` therefore refreshes
only when the token is due (``TokenPair.refresh_due``), under a row lock, after re-reading
the row: whoever comes second uses the token the first one stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from collector.accounts.models import User
from collector.core.columns import utcnow
from collector.core.crypto import TokenCipher
from collector.core.errors import Conflict, ServiceError
from collector.exact import (
    AuthError,
    ExactClient,
    ExactError,
    ExactOAuth,
    OAuthError,
    StaticTokenSource,
    TokenPair,
)
from collector.exact.models import ExactConnection
from collector.extensions import db
from collector.teamleader.models import ConnectionStatus

log = logging.getLogger(__name__)

# An unused refresh token dies after 30 days (reference §1.5): refresh a connection that has
# been idle this long, so a quiet month never costs a reconnect.
KEEP_ALIVE_AFTER = timedelta(days=7)

ClientFactory = Callable[..., ExactClient]  # (token_source, host, division) -> ExactClient


class ConnectFailed(ServiceError):
    """Connecting did not complete; nothing was stored."""


def current_exact() -> ExactConnection | None:
    """The installation's Exact connection (connected or needing a reconnect)."""
    return db.session.scalars(
        db.select(ExactConnection)
        .where(ExactConnection.status != ConnectionStatus.DISCONNECTED)
        .order_by(ExactConnection.id)
    ).first()


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
    try:
        pair = oauth.exchange_code(code)
    except OAuthError as exc:
        raise ConnectFailed(f"Exact Online refused the authorization ({exc}).") from exc
    except ExactError as exc:
        raise ConnectFailed(f"Exact Online could not be reached: {exc}") from exc
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
    connection.connected_at = utcnow()
    connection.connected_by_id = getattr(user, "id", None)
    connection.status = ConnectionStatus.CONNECTED
    connection.last_error = None
    store_tokens(connection, pair, cipher)
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
    connection.status = ConnectionStatus.DISCONNECTED
    connection.access_token_enc = None
    connection.refresh_token_enc = None
    connection.access_expires_at = None
    connection.forwarding = False
    db.session.commit()


def ensure_connected(connection: ExactConnection | None) -> ExactConnection:
    if connection is None or connection.status != ConnectionStatus.CONNECTED:
        raise Conflict("Exact Online is not connected.")
    return connection


def store_tokens(connection: ExactConnection, pair: TokenPair, cipher: TokenCipher) -> None:
    """Both tokens together: the old refresh token is dead the moment Exact answered."""
    connection.access_token_enc = cipher.encrypt(pair.access_token)
    connection.refresh_token_enc = cipher.encrypt(pair.refresh_token)
    connection.access_issued_at = pair.issued_at
    connection.access_expires_at = pair.expires_at


def stored_pair(row: ExactConnection, cipher: TokenCipher) -> TokenPair:
    return TokenPair(
        access_token=cipher.decrypt(row.access_token_enc),
        refresh_token=cipher.decrypt(row.refresh_token_enc),
        issued_at=row.access_issued_at,
        expires_at=row.access_expires_at,
    )


class ExactTokenSource:
    """Access tokens of one stored connection, refreshed once per stale token, on time.

    Each refresh runs in a session of its own holding ``SELECT … FOR UPDATE`` on the
    connection row, so it neither disturbs the caller's transaction nor races another
    worker. ``refreshes`` counts the refreshes this instance made (tests, the bench).
    """

    def __init__(
        self,
        connection_id: int,
        oauth: ExactOAuth,
        cipher: TokenCipher,
        *,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.connection_id = connection_id
        self.oauth = oauth
        self.cipher = cipher
        self.clock = clock
        self.refreshes = 0
        self._cached: TokenPair | None = None

    def __repr__(self) -> str:
        return f"ExactTokenSource(connection={self.connection_id})"

    def access_token(self) -> str:
        """A token with time left; refreshed first when its refresh is due."""
        now = self.clock()
        if self._cached and not self._cached.refresh_due(now):
            return self._cached.access_token
        with Session(db.engine) as session:
            pair = stored_pair(self._row(session, lock=False), self.cipher)
        if not pair.refresh_due(now):
            self._cached = pair
            return pair.access_token
        return self._refresh(pair.access_token)

    def refresh(self, stale_token: str) -> str:
        """After a 401: a newer stored token if there is one, else a refresh if it is due."""
        return self._refresh(stale_token, refused=True)

    def keep_alive(self, idle_for: timedelta = KEEP_ALIVE_AFTER) -> bool:
        """Refresh a connection idle for ``idle_for`` (once due), so its refresh token lives."""
        with Session(db.engine) as session:
            row = self._row(session, lock=False)
            issued = row.access_issued_at
        if issued is not None and self.clock() - issued < idle_for:
            return False
        self.access_token()
        return True

    def _refresh(self, stale_token: str, *, refused: bool = False) -> str:
        self._cached = None
        failure: OAuthError | None = None
        with Session(db.engine) as session, session.begin():
            row = self._row(session, lock=True)
            pair = stored_pair(row, self.cipher)
            now = self.clock()
            if pair.access_token != stale_token and not pair.refresh_due(now):
                self._cached = pair  # another worker refreshed while we waited for the lock
                return pair.access_token
            if not pair.refresh_due(now):
                # Exact refused a token it gave us less than ~570 s ago; asking for a new one
                # now would only be refused as too early (reference §1.4). Report, don't spin.
                raise AuthError(
                    "Exact Online refused an access token that is not due for refresh", status=401
                )
            try:
                fresh = self.oauth.refresh(pair.refresh_token)
            except OAuthError as exc:
                if exc.too_early and not refused and now < pair.expires_at:
                    # Our clock runs ahead of Exact's: the current token still works.
                    self._cached = pair
                    return pair.access_token
                if exc.old_refresh_token or exc.expired_refresh_token:
                    row.status = ConnectionStatus.RECONNECT_NEEDED
                    row.last_error = (
                        f"Exact Online refused the refresh token ({exc}); connect again."
                    )
                failure = exc
            else:
                store_tokens(row, fresh, self.cipher)
                self.refreshes += 1
                self._cached = fresh
        if failure is not None:
            log.warning("Exact token refresh failed: %s", failure)
            raise AuthError(
                f"Exact Online token refresh failed: {failure}", status=401
            ) from failure
        return fresh.access_token

    def _row(self, session: Session, *, lock: bool) -> ExactConnection:
        query = db.select(ExactConnection).where(ExactConnection.id == self.connection_id)
        if lock:
            query = query.with_for_update()
        row = session.scalars(query).one_or_none()
        if row is None or row.status != ConnectionStatus.CONNECTED or not row.access_token_enc:
            raise AuthError("Exact Online is not connected", status=401)
        return row
