"""What an API client asks for its access tokens (Teamleader and Exact Online alike)."""

from __future__ import annotations

from typing import Protocol


class TokenSource(Protocol):
    """Where the client gets access tokens. ``refresh`` is called after a 401 with the token
    that was refused; an implementation shared by several workers should return the newer
    token if someone else already refreshed it, and refresh only once per stale token."""

    def access_token(self) -> str:
        """Return a current access token."""
        ...

    def refresh(self, stale_token: str) -> str:
        """Return a fresh access token replacing ``stale_token``."""
        ...


class StaticTokenSource:
    """A fixed access token, for scripts and tests; it cannot refresh. Subclasses name the
    ``refused`` error of their client (its ``AuthError``)."""

    refused: type[Exception]

    def __init__(self, token: str) -> None:
        self._token = token

    def access_token(self) -> str:
        """Return the token given at construction."""
        return self._token

    def refresh(self, stale_token: str) -> str:
        """Fail: a static token has no refresh token behind it."""
        raise self.refused(
            "access token refused and a static token cannot be refreshed", status=401
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<token>)"
