"""Errors that operations raise and every adapter (form, API, CLI) turns into a message."""


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
