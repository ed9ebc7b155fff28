"""One HTTP transport for every API client (Teamleader, Exact Online, the payment provider).

A client says what to send (a ``Call``); the ``Transport`` sends it with the base URL, default
headers, a timeout and the token source's bearer token, counts it, and retries it by one policy:

- a connection never made (refused, no route, unknown host, connect timeout) reached nobody:
  any call may be sent again;
- after a read timeout, a broken answer or a 5xx the call may have arrived: only an idempotent
  call, or one with an idempotency key, is sent again; any other is raised as ``Unavailable``
  with ``maybe_applied`` set, so the caller looks before it writes again;
- those retries wait an exponential, capped, jittered backoff, ``max_retries`` times at most;
- a 401 asks the token source for a fresh token once; a 429 waits as long as the client's
  ``rate_limit_wait`` says (by default it is raised); any other error is raised at once.

Each client's errors derive from its own base (an ``HttpError``) and from one kind here
(``AuthError``, ``RateLimited``, ``Unavailable``, …). No Flask.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar

import requests
import urllib3
from marshmallow import Schema

from collector.core import metrics
from collector.core.fields import load_with
from collector.core.tokens import TokenSource

USER_AGENT = "collector/0.1"
DEFAULT_TIMEOUT = (5, 30)  # seconds to connect, seconds to wait for each read
BACKOFF_BASE = 0.5  # seconds before the first retry; doubles each time
BACKOFF_CAP = 20.0
# Added to an upstream's rate-limit reset: its clock and ours differ a little.
RATE_LIMIT_SKEW = 0.25
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
NETWORK_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


# -- typed errors -------------------------------------------------------------------------


class HttpError(Exception):
    """Base of every API client's errors: a call failed.

    ``status`` is the HTTP status (None: no answer), ``code`` the upstream's machine-readable
    reason if it gives one, ``endpoint`` the call; ``retryable``: the same request may succeed
    later. Each class keeps its own keyword arguments and passes the rest on, so a client's
    class can derive from its client's base and from a kind below.
    """

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        endpoint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.endpoint = endpoint


class AuthError(HttpError):
    """401: the credentials were refused (after one refresh where the token source can)."""


class Forbidden(HttpError):
    """403: the credentials are good but do not allow this."""


class NotFound(HttpError):
    """404: what was asked for does not exist."""


class ValidationFailed(HttpError):
    """The upstream refused the request data: sending the same again will not help."""


class RateLimited(HttpError):
    """429: over the upstream's budget; ``reset_at`` is when it frees up (None: not said)."""

    retryable = True

    def __init__(self, message: str, *, reset_at: datetime | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.reset_at = reset_at


class Unavailable(HttpError):
    """No usable answer (a network error, a timeout, a 5xx): worth trying again later.
    ``maybe_applied``: a call that is not idempotent may have been applied; look before
    sending it again, unless it carries an idempotency key."""

    retryable = True

    def __init__(self, message: str, *, maybe_applied: bool = False, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.maybe_applied = maybe_applied


class MalformedResponse(HttpError):
    """A 2xx answer whose body is not JSON or not the documented shape."""


E = TypeVar("E", bound=HttpError)


def error_type(
    status: int, by_status: Mapping[int, type[E]], base: type[E], unavailable: type[E]
) -> type[E]:
    """The class a non-2xx ``status`` maps to: any 5xx is ``unavailable``, a status in
    ``by_status`` its class, any other ``base``."""
    if status >= 500:
        return unavailable
    return by_status.get(status, base)


def describe(endpoint: str, status: int, *details: str | None) -> str:
    """An error's message, ``<endpoint>: HTTP <status>: <detail>…``: never a request
    header, so never a token."""
    return ": ".join([f"{endpoint}: HTTP {status}", *(detail for detail in details if detail)])


def json_or_none(content: bytes | str | None) -> Any:
    """The JSON in an error body; None when there is none (an empty body, an HTML page)."""
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:  # UnicodeDecodeError included
        return None


@dataclass(frozen=True)
class ErrorTypes:
    """A client's own errors, so that what the transport raises is the client's:
    ``from_response(response, endpoint)`` maps a non-2xx answer, ``unavailable`` is raised
    for a network error, ``malformed`` for a body that cannot be read."""

    from_response: Callable[[requests.Response, str], HttpError]
    unavailable: type[Unavailable]
    malformed: type[MalformedResponse]


# -- what a client sends ------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One request as a client means it: ``endpoint`` names it in ``Transport.calls`` and
    in errors; ``body`` goes out as JSON, ``data`` as it is. ``idempotent`` defaults to what
    the method promises (an RPC API that reads through POST says so per call); with an
    ``idempotency_key`` the upstream answers a repeat with the first answer."""

    method: str
    endpoint: str
    url: str
    params: Mapping[str, str] | None = None
    body: Any = None
    data: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    idempotent: bool | None = None
    idempotency_key: str | None = None

    def is_idempotent(self) -> bool:
        """Whether sending this call twice has the effect of sending it once."""
        if self.idempotent is None:
            return self.method.upper() in IDEMPOTENT_METHODS
        return self.idempotent


def may_have_arrived(exc: Exception) -> bool:
    """Whether a request that failed with ``exc`` may have reached the server: only a
    connection never made surely did not (a connect timeout; a refused, unroutable or
    unknown host: urllib3's NewConnectionError inside requests' ConnectionError)."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    if isinstance(exc, requests.ConnectionError) and exc.args:
        reason = exc.args[0]
        reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause
        return not isinstance(reason, urllib3.exceptions.NewConnectionError)
    return True


def may_retry(call: Call, error: HttpError) -> bool:
    """Whether a failed call may be sent again after a backoff: it got no usable answer,
    and sending it again cannot apply it twice."""
    if not isinstance(error, Unavailable):
        return False
    return not error.maybe_applied or call.idempotency_key is not None


def backoff(failures: int, rng: random.Random) -> float:
    """Seconds before retry ``failures + 1``: doubling from BACKOFF_BASE up to BACKOFF_CAP,
    jittered to 50–100 % so that workers which failed together do not retry together."""
    return min(BACKOFF_CAP, BACKOFF_BASE * 2**failures) * rng.uniform(0.5, 1.0)


def wait_until(reset_at: datetime, now: datetime) -> float:
    """Seconds from ``now`` until an upstream's ``reset_at``, with RATE_LIMIT_SKEW added;
    a reset already past still waits the skew."""
    return max((reset_at - now).total_seconds() + RATE_LIMIT_SKEW, RATE_LIMIT_SKEW)


def utcnow() -> datetime:
    """Current time, aware, in UTC."""
    return datetime.now(UTC)


def build_session(user_agent: str = USER_AGENT) -> requests.Session:
    """A ``requests.Session`` that identifies the service and asks for JSON; share one per
    worker process."""
    session = requests.Session()
    session.headers["User-Agent"] = user_agent
    session.headers["Accept"] = "application/json"
    return session


def decode_json(content: bytes) -> Any:
    """Decode JSON with numbers as Decimal, so amounts never pass through float."""
    return json.loads(content, parse_float=Decimal)


class Limiter(Protocol):
    """A rate limiter shared by the processes that call one account."""

    def acquire(self) -> float:
        """Block until a call may be sent; return the seconds waited."""
        ...


# -- sending ------------------------------------------------------------------------------


class Transport:
    """Sends one client's calls and counts them per endpoint in ``calls`` (retries and pages
    included: what upstream rate limits count). A client subclasses it for what is its own:
    ``observe`` reads the rate-limit headers of every answer, ``rate_limit_wait`` says how
    long a 429 waits, ``decode`` reads a 2xx body. Every attempt is also counted for
    Prometheus by ``service`` and outcome (``collector.core.metrics.UPSTREAM_CALLS``)."""

    service = "other"  # the upstream's name in the metrics: a client's subclass says its own

    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        errors: ErrorTypes,
        *,
        token_source: TokenSource | None = None,
        headers: Mapping[str, str] | None = None,
        limiter: Limiter | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        max_retries: int = 0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        idempotency_header: str | None = None,
        service: str | None = None,
    ) -> None:
        if service is not None:
            self.service = service
        self.base_url = base_url.rstrip("/")
        self.errors = errors
        self.limiter = limiter
        self.clock = clock
        self.max_retries = max_retries
        self.calls: Counter[str] = Counter()
        self._session = session
        self._tokens = token_source
        self._headers = dict(headers or {})
        self._timeout = timeout
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._idempotency_header = idempotency_header

    def url(self, path: str) -> str:
        """The URL of ``path`` below the base URL."""
        return f"{self.base_url}/{path}"

    def send(self, call: Call) -> Any:
        """Send ``call``, retrying as the policy allows; return the decoded body of the 2xx
        answer (None when empty), else raise the client's typed error."""
        token = self._tokens.access_token() if self._tokens is not None else None
        refreshed = False
        failures = rate_waits = 0
        while True:
            outcome = self._attempt(call, token)
            if isinstance(outcome, requests.Response):
                return self.decode(outcome, call.endpoint)
            if isinstance(outcome, AuthError) and self._tokens is not None and not refreshed:
                token, refreshed = self._tokens.refresh(token), True
            elif isinstance(outcome, RateLimited):
                wait = self.rate_limit_wait(outcome, rate_waits)
                if wait is None:
                    raise outcome
                rate_waits += 1
                if wait > 0:
                    self._sleep(wait)
            elif may_retry(call, outcome) and failures < self.max_retries:
                self._sleep(backoff(failures, self._rng))
                failures += 1
            else:
                raise outcome

    def _attempt(self, call: Call, token: str | None) -> requests.Response | HttpError:
        """Send once; return the 2xx response, or the error it amounts to (not raised)."""
        if self.limiter is not None:
            self.limiter.acquire()
        self.calls[call.endpoint] += 1
        try:
            response = self._session.request(
                call.method,
                call.url,
                params=call.params,
                json=call.body,
                data=call.data,
                headers=self._headers_for(call, token),
                timeout=self._timeout,
            )
        except NETWORK_ERRORS as exc:
            metrics.UPSTREAM_CALLS.labels(self.service, metrics.upstream_outcome(None)).inc()
            # Only the class name: a requests message may quote the URL and its query.
            return self.errors.unavailable(
                f"{call.endpoint}: {type(exc).__name__}",
                endpoint=call.endpoint,
                maybe_applied=may_have_arrived(exc) and not call.is_idempotent(),
            )
        outcome = metrics.upstream_outcome(response.status_code)
        metrics.UPSTREAM_CALLS.labels(self.service, outcome).inc()
        self.observe(response)
        if response.ok:
            return response
        error = self.errors.from_response(response, call.endpoint)
        if isinstance(error, Unavailable):
            # The server answered, so the call arrived: a write may be applied despite the 5xx.
            error.maybe_applied = not call.is_idempotent()
        return error

    def _headers_for(self, call: Call, token: str | None) -> dict[str, str]:
        headers = dict(self._headers)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if call.idempotency_key is not None and self._idempotency_header:
            headers[self._idempotency_header] = call.idempotency_key
        headers.update(call.headers)
        return headers

    def observe(self, response: requests.Response) -> None:
        """Take note of what an answer says of the rate budget (nothing, by default)."""

    def rate_limit_wait(self, error: RateLimited, waits: int) -> float | None:
        """Seconds to wait before sending a call again after its ``waits + 1``-th 429 (0: the
        limiter holds it), or None to raise ``error``. By default a 429 is raised."""
        return None

    def decode(self, response: requests.Response, endpoint: str) -> Any:
        """The JSON of a 2xx body, numbers as Decimal; None for 204 or an empty body."""
        if response.status_code == 204 or not response.content:
            return None
        try:
            return decode_json(response.content)
        except ValueError:  # UnicodeDecodeError included
            raise self.errors.malformed(
                f"{endpoint}: HTTP {response.status_code} body is not JSON",
                status=response.status_code,
                endpoint=endpoint,
            ) from None

    def load(self, schema: type[Schema], data: Any, endpoint: str, *, many: bool = False) -> Any:
        """Load ``data`` through ``schema``; a shape we cannot read is the client's
        MalformedResponse."""
        return load_with(schema, data, endpoint, self.errors.malformed, many=many)
