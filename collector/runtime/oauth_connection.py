"""A stored OAuth connection (Teamleader's, Exact Online's): its token pair at rest, the token
source the API clients read it through, and trading the code when connecting.

Refresh tokens are single use on both services (Teamleader reference §1 and §15.1, Exact §1.5):
two workers refreshing at once burn the pair and lose the connection. ``StoredTokenSource``
therefore refreshes under a row lock (``SELECT … FOR UPDATE``) after re-reading the row, so
whoever comes second uses the token the first one stored; the new pair is stored encrypted in
the same transaction.

A connection model has an ``id`` and the columns of ``runtime.models.oauth_tokens.OAuthTokens``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy.orm import Session

from collector.core.columns import utcnow
from collector.core.crypto import TokenCipher
from collector.core.errors import Conflict, ServiceError
from collector.core.oauth import LONG_AGO, ConnectionStatus, OAuth2Client, TokenPair
from collector.extensions import db
from collector.runtime import operator_alerts

log = logging.getLogger(__name__)


class ConnectFailed(ServiceError):
    """Connecting did not complete; nothing was stored."""


def current(model: type) -> Any:
    """The installation's connection of ``model`` (connected or needing a reconnect)."""
    return db.session.scalars(
        db.select(model).where(model.status != ConnectionStatus.DISCONNECTED).order_by(model.id)
    ).first()


def require_connected(connection: Any, service: str) -> Any:
    """``connection`` if it may be used, else Conflict naming ``service``."""
    if connection is None or connection.status != ConnectionStatus.CONNECTED:
        raise Conflict(f"{service} is not connected.")
    return connection


def exchange_code(oauth: OAuth2Client, code: str) -> TokenPair:
    """Trade the callback's ``code`` for a token pair, or fail with a message for the user."""
    try:
        return oauth.exchange_code(code)
    except oauth.errors.refused as exc:
        detail = oauth.describe(exc)
        raise ConnectFailed(f"{oauth.service} refused the authorization ({detail}).") from exc
    except oauth.errors.base as exc:
        raise ConnectFailed(f"{oauth.service} could not be reached: {exc}") from exc


def mark_connected(connection: Any, pair: TokenPair, cipher: TokenCipher, user: Any) -> None:
    """``connection`` connected just now by ``user`` with ``pair`` (the caller commits)."""
    connection.connected_at = utcnow()
    connection.connected_by_id = getattr(user, "id", None)
    connection.status = ConnectionStatus.CONNECTED
    connection.last_error = None
    store_pair(connection, pair, cipher)


def store_pair(connection: Any, pair: TokenPair, cipher: TokenCipher) -> None:
    """Both tokens together, encrypted: the old refresh token died when the service answered."""
    connection.access_token_enc = cipher.encrypt(pair.access_token)
    connection.refresh_token_enc = cipher.encrypt(pair.refresh_token)
    connection.token_issued_at = pair.issued_at
    connection.access_expires_at = pair.expires_at


def stored_pair(connection: Any, cipher: TokenCipher, oauth: OAuth2Client) -> TokenPair:
    """The pair at rest, with ``oauth``'s refresh margin; a time not stored counts as long ago."""
    return TokenPair(
        access_token=cipher.decrypt(connection.access_token_enc),
        refresh_token=cipher.decrypt(connection.refresh_token_enc),
        issued_at=connection.token_issued_at or LONG_AGO,
        expires_at=connection.access_expires_at or LONG_AGO,
        refresh_margin=oauth.rules.refresh_margin,
    )


def forget_tokens(connection: Any) -> None:
    """Mark ``connection`` disconnected and drop its tokens (the caller commits)."""
    connection.status = ConnectionStatus.DISCONNECTED
    connection.access_token_enc = None
    connection.refresh_token_enc = None
    connection.access_expires_at = None


class StoredTokenSource:
    """Access tokens of one stored connection, refreshed at most once per stale token.

    Each refresh runs in a session of its own holding ``SELECT … FOR UPDATE`` on the
    connection row, so it neither disturbs the caller's transaction nor races another worker
    (PostgreSQL; SQLite serialises writers anyway). ``refreshes`` counts the refreshes this
    instance made (tests, the bench). Subclasses name the model and the texts.
    """

    model: ClassVar[type]
    # ``last_error`` when the refresh token is refused; ``{error}`` is the refusal.
    reconnect_note: ClassVar[str]
    # The AuthError raised when a refresh fails; ``{error}`` is the refusal.
    failure_message: ClassVar[str]
    # The endpoint of the page where a user connects again (the admins' digest links it).
    settings_page: ClassVar[str]
    # Whether every refusal of a refresh becomes the client's AuthError, or only the ones
    # that need a reconnect (the others are raised as the client's OAuth error).
    every_refusal_is_auth_error: ClassVar[bool]

    def __init__(
        self,
        connection_id: int,
        oauth: OAuth2Client,
        cipher: TokenCipher,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.connection_id = connection_id
        self.oauth = oauth
        self.cipher = cipher
        self.clock = clock
        self.refreshes = 0
        self._cached: TokenPair | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(connection={self.connection_id})"

    def access_token(self) -> str:
        """A token with time left; refreshed first when its refresh is due."""
        # Every API call asks: a pair not yet due is kept in memory instead of costing a
        # database read per call.
        now = self.clock()
        if self._cached and not self._cached.refresh_due(now):
            return self._cached.access_token
        with Session(db.engine) as session:
            pair = stored_pair(self._row(session, lock=False), self.cipher, self.oauth)
        if not pair.refresh_due(now):
            self._cached = pair
            return pair.access_token
        return self._refresh(pair.access_token, after_refusal=False)

    def refresh(self, stale_token: str) -> str:
        """After a 401: a newer stored token if there is one, else a refresh."""
        return self._refresh(stale_token, after_refusal=True)

    def _refresh(self, stale_token: str, *, after_refusal: bool) -> str:
        self._cached = None
        with Session(db.engine) as session, session.begin():
            row = self._row(session, lock=True)
            pair = stored_pair(row, self.cipher, self.oauth)
            now = self.clock()
            if not pair.refresh_due(now):
                if pair.access_token != stale_token:
                    self._cached = pair  # another worker refreshed while we waited for the lock
                    return pair.access_token
                if not self.oauth.rules.refreshes_early:
                    # Refused a token it gave us moments ago; asking for a new one now would
                    # only be refused as too early (Exact §1.4). Report, don't spin.
                    message = f"{self.oauth.service} refused an access token that is not due"
                    raise self.oauth.errors.auth(f"{message} for refresh", status=401)
            try:
                fresh = self.oauth.refresh(pair.refresh_token)
            except self.oauth.errors.refused as exc:
                if self.oauth.too_early(exc) and not after_refusal and now < pair.expires_at:
                    self._cached = pair  # our clock runs ahead of the service's: it still works
                    return pair.access_token
                failure = self._refused(row, exc)
            else:
                store_pair(row, fresh, self.cipher)
                self.refreshes += 1
                self._cached = fresh
                return fresh.access_token
        raise failure  # once the block committed what _refused marked

    def _refused(self, row: Any, exc: Exception) -> Exception:
        """The error to raise for a refused refresh; marks the row when a user must connect
        again (the UI then shows "reconnect needed")."""
        if self.oauth.needs_reconnect(exc):
            row.status = ConnectionStatus.RECONNECT_NEEDED
            row.last_error = self.reconnect_note.format(error=exc)
            # The admins' next digest tells of it, kept in the block that marks the row.
            operator_alerts.record(
                operator_alerts.CONNECTION,
                self.oauth.service,
                row.last_error,
                self.settings_page,
                session=Session.object_session(row),
            )
        elif not self.every_refusal_is_auth_error:
            return exc
        log.warning("%s token refresh failed: %s", self.oauth.service, exc)
        error = self.oauth.errors.auth(self.failure_message.format(error=exc), status=401)
        error.__cause__ = exc
        return error

    def _row(self, session: Session, *, lock: bool) -> Any:
        query = db.select(self.model).where(self.model.id == self.connection_id)
        if lock:
            query = query.with_for_update()
        row = session.scalars(query).one_or_none()
        if row is None or row.status != ConnectionStatus.CONNECTED or not row.access_token_enc:
            raise self.oauth.errors.auth(f"{self.oauth.service} is not connected", status=401)
        return row
