"""Errors that services raise and every adapter (form, API, CLI) turns into a message."""


class ServiceError(Exception):
    """A request the service refuses, with a message meant for the user."""


class Invalid(ServiceError):
    """Input that breaks a business rule; ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, list[str]], message: str = "Please correct the errors."):
        super().__init__(message)
        self.errors = errors


class Conflict(ServiceError):
    """The request is valid but the current state forbids it (e.g. a profile in use)."""


class NotFound(ServiceError):
    """The thing asked for does not exist."""
