"""Sending one Teamleader call: headers, timeout, rate limiting, retries, token refresh.

Retry policy:
- 5xx, connection errors and timeouts: exponential backoff with jitter, ``max_retries`` times —
  except for calls that are not idempotent, which are retried only when the request surely
  never reached Teamleader (connect timeout);
- 429: wait until ``X-RateLimit-Reset``, then try again (a bounded number of times);
- 401: ask the token source for a fresh token once, retry once, else ``AuthError``;
- any other 4xx: never retried.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import requests
from marshmallow import Schema

from collector.core.fields import load_with
from collector.core.tokens import TokenSource
from collector.teamleader import bodies
from collector.teamleader.errors import (
    AuthError,
    MalformedResponse,
    RateLimited,
    TeamleaderError,
    Unavailable,
    error_from_response,
    parse_reset,
)
from collector.teamleader.ratelimit import RateLimiter

# Pin the dated API version: otherwise behaviour depends on when the integration was
# registered (reference §2). 2023-09-26 turned custom field options into {id, value}.
API_VERSION = "2023-09-26"
USER_AGENT = "collector/0.1"

BACKOFF_BASE = 0.5  # seconds before the first retry; doubles each time
BACKOFF_CAP = 20.0
# 429 bodies are undocumented and Retry-After is not a documented header (reference §4): we
# wait for X-RateLimit-Reset, a timestamp, plus a little for clock skew against Teamleader's.
RATE_LIMIT_SKEW = 0.25
RATE_LIMIT_FALLBACK = 5.0  # when Reset is missing or unparseable
RATE_LIMIT_MAX_WAIT = 61.0  # the window is one sliding minute: no honest Reset is further off
MAX_RATE_LIMIT_WAITS = 5
# The maximum page size is undocumented; SDKs use 100 (reference §3). Lists return no totals,
# so a page shorter than this is the last one.
PAGE_SIZE = 100
# ids per batched look-up: one .list call with filter.ids instead of one .info per id (§3).
BATCH_SIZE = 100

_NETWORK_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


def utcnow() -> datetime:
    """Current time, aware, in UTC."""
    return datetime.now(UTC)


def build_session(user_agent: str = USER_AGENT) -> requests.Session:
    """A ``requests.Session`` that identifies the service; share one per worker process."""
    session = requests.Session()
    session.headers["User-Agent"] = user_agent
    session.headers["Accept"] = "application/json"
    return session


def decode_json(content: bytes) -> Any:
    """Decode JSON with numbers as Decimal, so amounts never pass through float."""
    return json.loads(content, parse_float=Decimal)


class Transport:
    """Sends calls for ``TeamleaderClient`` and unwraps envelopes and pages; counts HTTP
    requests per endpoint in ``calls`` (retries included)."""

    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        token_source: TokenSource,
        *,
        limiter: RateLimiter | None,
        timeout: float | tuple[float, float],
        max_retries: int,
        sleep: Callable[[float], None],
        api_version: str,
        clock: Callable[[], datetime],
        not_idempotent: frozenset[str],
        rng: random.Random | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.calls: Counter[str] = Counter()
        self._session = session
        self._tokens = token_source
        self._limiter = limiter
        self._timeout = timeout
        self._max_retries = max_retries
        self._sleep = sleep
        self._api_version = api_version
        self._clock = clock
        self._not_idempotent = not_idempotent
        self._rng = rng or random.Random()

    def call(self, endpoint: str, body: dict | None = None) -> Any:
        """POST one API method; return its decoded JSON body, None for 204/empty."""
        token = self._tokens.access_token()
        refreshed = False
        failures = rate_waits = 0
        while True:
            outcome, retryable = self._attempt(endpoint, body, token)
            if isinstance(outcome, requests.Response):
                return self._decode(outcome, endpoint)
            if isinstance(outcome, AuthError) and not refreshed:
                token, refreshed = self._tokens.refresh(token), True
            elif isinstance(outcome, RateLimited) and rate_waits < MAX_RATE_LIMIT_WAITS:
                rate_waits += 1
                self._sleep(self.rate_limit_wait(outcome.reset_at))
            elif retryable and failures < self._max_retries:
                self._sleep(self.backoff(failures))
                failures += 1
            else:
                raise outcome

    def _attempt(
        self, endpoint: str, body: dict | None, token: str
    ) -> tuple[requests.Response | TeamleaderError, bool]:
        """Send once; return the 2xx response, or the error it amounts to (not raised) and
        whether a backoff retry is allowed."""
        if self._limiter is not None:
            self._limiter.acquire()
        self.calls[endpoint] += 1
        headers = {"Authorization": f"Bearer {token}", "X-Api-Version": self._api_version}
        try:
            response = self._session.post(
                f"{self.base_url}/{endpoint}",
                json=body if body is not None else {},
                headers=headers,
                timeout=self._timeout,
            )
        except _NETWORK_ERRORS as exc:
            error = Unavailable(f"{endpoint}: {type(exc).__name__}", endpoint=endpoint)
            # A connect timeout never reached Teamleader; anything later may have been applied.
            safe = endpoint not in self._not_idempotent or isinstance(exc, requests.ConnectTimeout)
            return error, safe
        self._observe(response)
        if response.ok:
            return response, False
        error = error_from_response(response, endpoint)
        return error, isinstance(error, Unavailable) and endpoint not in self._not_idempotent

    def _observe(self, response: requests.Response) -> None:
        """Tell the shared limiter what Teamleader says is left of the budget."""
        if self._limiter is None:
            return
        try:
            remaining = int(response.headers["X-RateLimit-Remaining"])
        except (KeyError, ValueError):
            remaining = None
        reset_at = parse_reset(response.headers.get("X-RateLimit-Reset"))
        self._limiter.update_from_headers(remaining, reset_at)

    def _decode(self, response: requests.Response, endpoint: str) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        try:
            return decode_json(response.content)
        except (ValueError, UnicodeDecodeError):
            raise MalformedResponse(
                f"{endpoint}: HTTP {response.status_code} body is not JSON",
                status=response.status_code,
                endpoint=endpoint,
            ) from None

    def backoff(self, failures: int) -> float:
        """Seconds before retry ``failures + 1``: exponential, capped, jittered (50–100 %)."""
        delay = min(BACKOFF_CAP, BACKOFF_BASE * 2**failures)
        return delay * self._rng.uniform(0.5, 1.0)

    def rate_limit_wait(self, reset_at: datetime | None) -> float:
        """Seconds to wait after a 429: until ``reset_at`` (+ skew), bounded."""
        if reset_at is None:
            return RATE_LIMIT_FALLBACK
        wait = (reset_at - self._clock()).total_seconds() + RATE_LIMIT_SKEW
        return min(max(wait, RATE_LIMIT_SKEW), RATE_LIMIT_MAX_WAIT)

    # -- envelopes and pagination ---------------------------------------------------------

    def data(self, endpoint: str, body: dict) -> Any:
        """Call and return the ``data`` member of the response envelope."""
        payload = self.call(endpoint, body)
        if not isinstance(payload, dict) or "data" not in payload:
            raise MalformedResponse(f"{endpoint}: response has no data member", endpoint=endpoint)
        return payload["data"]

    def one(self, endpoint: str, body: dict, schema: type[Schema]) -> dict:
        """Call and load ``data`` as one record."""
        return load(schema, self.data(endpoint, body), endpoint)

    def many(self, endpoint: str, body: dict, schema: type[Schema]) -> list[dict]:
        """Call once and load ``data`` as a list of records."""
        data = self.data(endpoint, body)
        if not isinstance(data, list):
            raise MalformedResponse(f"{endpoint}: data is not a list", endpoint=endpoint)
        return load(schema, data, endpoint, many=True)

    def pages(self, endpoint: str, body: dict, schema: type[Schema]) -> Iterator[dict]:
        """Yield records page by page until a short page: lists carry no totals (§3)."""
        number, previous_first = 1, None
        while True:
            paged = {**body, "page": {"size": PAGE_SIZE, "number": number}}
            page = self.many(endpoint, paged, schema)
            # An endpoint that ignores paging returns page 1 forever (departments.list does).
            if page and previous_first is not None and page[0].get("id") == previous_first:
                raise MalformedResponse(f"{endpoint}: page {number} repeats page {number - 1}")
            yield from page
            if len(page) < PAGE_SIZE:
                return
            number, previous_first = number + 1, page[0].get("id")

    def by_ids(
        self, endpoint: str, ids: Iterable[str], schema: type[Schema], extra: dict | None = None
    ) -> dict[str, dict]:
        """Return ``{id: record}`` for ``ids`` through ``filter.ids``, one call per 100 ids."""
        extra = extra or {}
        found: dict[str, dict] = {}
        for chunk in bodies.chunks(bodies.id_list(ids) or [], BATCH_SIZE):
            # One page as large as the chunk holds every match: no second, empty page needed.
            body = {
                **extra,
                "filter": {**extra.get("filter", {}), "ids": chunk},
                "page": {"size": len(chunk), "number": 1},
            }
            found.update((record["id"], record) for record in self.many(endpoint, body, schema))
        return found


def load(schema: type[Schema], data: Any, endpoint: str, *, many: bool = False) -> Any:
    """Load ``data`` through ``schema``; a shape we cannot read is a MalformedResponse."""
    return load_with(schema, data, endpoint, MalformedResponse, many=many)
