"""Errors that operations raise and every adapter (form, API, CLI) turns into a message."""

from datetime import UTC, datetime


class ServiceError(Exception):
    """A request the service refuses, with a message meant for the user."""


class Invalid(ServiceError):
    """Input that breaks a business rule; ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, list[str]], message: str = "Please correct the errors."):
        super().__init__(message)
        self.errors = errors


REASON_LIMIT = 300
TOO_LONG = f"Keep the reason under {REASON_LIMIT} characters."


def required_reason(text: str | None, missing: str, too_long: str = TOO_LONG) -> str:
    """``text`` stripped: the reason a person gives for a change that is kept with it.
    Invalid on the ``reason`` field when empty (``missing``) or past REASON_LIMIT
    (``too_long``)."""
    reason = (text or "").strip()
    if not reason:
        raise Invalid({"reason": [missing]})
    if len(reason) > REASON_LIMIT:
        raise Invalid({"reason": [too_long]})
    return reason


class Conflict(ServiceError):
    """The request is valid but the current state forbids it (e.g. a profile in use)."""


class NotFound(ServiceError):
    """The thing asked for does not exist."""


class TryLater(Exception):
    """The work cannot go on now but may at ``retry_at`` (epoch seconds): ``what`` it waits
    for is away or out of budget. A job that raises it gives its worker back and is started
    again then (``runtime.queue.tracked``)."""

    def __init__(self, what: str, retry_at: float, message: str | None = None) -> None:
        self.what = what
        self.retry_at = retry_at
        until = f"{self.retry_at_utc:%H:%M:%S} UTC"
        super().__init__(message or f"{what} is not available before {until}")

    @property
    def retry_at_utc(self) -> datetime:
        return datetime.fromtimestamp(self.retry_at, UTC)

    @property
    def waiting(self) -> str:
        """What a paused piece of work says it waits for, e.g. "Waiting for Teamleader's
        rate limit until 14:03:10 UTC"."""
        return f"Waiting for {self.what} until {self.retry_at_utc:%H:%M:%S} UTC"
