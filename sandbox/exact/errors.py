"""Errors the REST API answers, in Exact's envelope.

``{"error":{"code":"","message":{"lang":"","value":"…"}}}``; several business messages are
joined with ``\\r\\n`` and come back as HTTP 500 (reference §2.6, pitfall 16).
"""

from __future__ import annotations

STREAM = "Error processing request stream. "
# What Exact answers, as text/plain and not in the JSON envelope, to a query it cannot parse
# (issue 25; the wording is the .NET OData stack's, whose error pages Exact passes through).
QUERY_SYNTAX = "Bad Request - Error in query syntax."


class ExactError(Exception):
    """An error response of the REST API."""

    def __init__(
        self,
        status: int,
        messages: str | list[str],
        headers: dict | None = None,
        *,
        plain: bool = False,
    ) -> None:
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("\r\n".join(self.messages))
        self.status = status
        self.headers = dict(headers or {})
        self.plain = plain  # answered as text/plain, whatever the Accept header says

    def body(self) -> dict:
        """The JSON error envelope."""
        return {"error": {"code": "", "message": {"lang": "", "value": str(self)}}}


def query_syntax() -> ExactError:
    """A ``$filter``/``$orderby`` or key that does not parse: a plain-text 400."""
    return ExactError(400, QUERY_SYNTAX, plain=True)


def validation(messages: list[str]) -> ExactError:
    """Business validation failures: HTTP 500, messages joined with CRLF."""
    return ExactError(500, messages)


def bad_stream(detail: str) -> ExactError:
    """A body that could not be read into the entity (HTTP 400)."""
    return ExactError(400, STREAM + detail)


def conversion(name: str, edm_type: str) -> ExactError:
    """A property value of the wrong type (e.g. raw text for a binary ``Attachment``)."""
    return bad_stream(
        f"Error encountered in converting the value from request payload for property "
        f"'{name}' to type '{edm_type}'"
    )


def not_found() -> ExactError:
    """An unknown entity set or key."""
    return ExactError(404, "Not found")
