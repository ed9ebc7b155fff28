"""Sending one Exact Online call: headers, timeout, pacing, retries, token refresh, and
unwrapping the OData envelope and its pages.

Retry policy:
- 5xx (but not a business validation 500), connection errors and timeouts: exponential
  backoff with jitter, ``max_retries`` times, for GETs only. A POST is retried only when it
  surely never left (the connection was not made); after a read timeout or a 5xx its outcome
  is unknown — ``Unavailable.maybe_applied`` — because Exact has no uniqueness check (§5.6);
- 429: every process waits for the reset (the pacer's pause, else our own sleep), then the
  call is tried again, a bounded number of times; a reset too far away (the daily budget)
  is raised as ``RateLimited`` for the job layer to reschedule;
- 401: ask the token source for a fresh token once, retry once, else ``AuthError``;
- any other 4xx and every validation error: never retried — repeating them counts towards
  Exact's block of more than 10 errors per endpoint per hour (§3).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from marshmallow import Schema

from collector.core.tokens import TokenSource
from collector.exact.errors import (
    AuthError,
    ExactError,
    MalformedResponse,
    RateLimited,
    Unavailable,
    error_from_response,
)
from collector.exact.odata import decode_body, encode_json, load, page_of, row_identity, unwrap
from collector.exact.ratelimit import Pacer

USER_AGENT = "collector/0.1"
BACKOFF_BASE = 0.5  # seconds before the first retry; doubles each time
BACKOFF_CAP = 20.0
MINUTE = 60.0  # Exact's minute, when no pacer says how long ours is
RATE_LIMIT_SKEW = 0.25  # added to a reset for clock skew against Exact's
MAX_RATE_LIMIT_WAITS = 3
MAX_PAGES = 10_000  # a runaway __next chain must end (60 rows a page: 600 000 rows)

_NETWORK_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


def build_session(user_agent: str = USER_AGENT) -> requests.Session:
    """A ``requests.Session`` that identifies the service; share one per worker process."""
    session = requests.Session()
    session.headers["User-Agent"] = user_agent
    # Without it Exact answers in Atom XML (§2.1).
    session.headers["Accept"] = "application/json"
    return session


def _never_sent(exc: Exception) -> bool:
    """True when the request surely never reached Exact (no connection was made)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if not isinstance(exc, requests.ConnectionError) or not exc.args:
        return False
    reason = exc.args[0]
    reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


class Transport:
    """Sends calls for ``ExactClient``; counts HTTP requests per endpoint in ``calls``
    (retries and pages included — what Exact's rate limits count)."""

    def __init__(
        self,
        session: requests.Session,
        host: str,
        token_source: TokenSource,
        *,
        limiter: Pacer | None,
        timeout: float | tuple[float, float],
        max_retries: int,
        sleep: Callable[[float], None],
        clock: Callable[[], datetime],
        rng: random.Random | None = None,
    ) -> None:
        self.host = host.rstrip("/")
        self.calls: Counter[str] = Counter()
        self._session = session
        self._tokens = token_source
        self._limiter = limiter
        self._timeout = timeout
        self._max_retries = max_retries
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()

    def send(
        self,
        method: str,
        endpoint: str,
        url: str,
        *,
        params: dict | None = None,
        body: Any = None,
    ) -> Any:
        """Send one call (retrying as the policy allows); return the decoded body or None."""
        data = encode_json(body) if body is not None else None
        token = self._tokens.access_token()
        refreshed = False
        failures = rate_waits = 0
        while True:
            outcome, retryable = self._attempt(method, endpoint, url, params, data, token)
            if isinstance(outcome, requests.Response):
                return self._decode(outcome, endpoint)
            if isinstance(outcome, AuthError) and not refreshed:
                token, refreshed = self._tokens.refresh(token), True
            elif isinstance(outcome, RateLimited) and rate_waits < MAX_RATE_LIMIT_WAITS:
                rate_waits += 1
                self._wait_for_reset(outcome)
            elif retryable and failures < self._max_retries:
                self._sleep(self.backoff(failures))
                failures += 1
            else:
                raise outcome

    def _attempt(
        self,
        method: str,
        endpoint: str,
        url: str,
        params: dict | None,
        data: bytes | None,
        token: str,
    ) -> tuple[requests.Response | ExactError, bool]:
        """Send once; return the 2xx response, or the error it amounts to (not raised) and
        whether a backoff retry is allowed."""
        if self._limiter is not None:
            self._limiter.acquire()
        self.calls[endpoint] += 1
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            # Without it a POST answers with the GUID only, every other property null (§2.1).
            "Prefer": "return=representation",
        }
        if data is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = self._session.request(
                method, url, params=params, data=data, headers=headers, timeout=self._timeout
            )
        except _NETWORK_ERRORS as exc:
            idempotent = method == "GET"
            never_sent = _never_sent(exc)
            error = Unavailable(
                f"{endpoint}: {type(exc).__name__}",
                endpoint=endpoint,
                maybe_applied=not idempotent and not never_sent,
            )
            return error, idempotent or never_sent
        self._observe(response)
        if response.ok:
            return response, False
        error = error_from_response(response, endpoint)
        if isinstance(error, Unavailable) and method != "GET":
            # A 5xx on a write: Exact may have booked it before failing (§11.15).
            error.maybe_applied = True
            return error, False
        return error, isinstance(error, Unavailable)

    def _observe(self, response: requests.Response) -> None:
        """Tell the shared pacer what Exact says is left of the budgets."""
        if self._limiter is None:
            return
        if response.status_code == 429:
            self._limiter.rate_limited(response.headers)
        else:
            self._limiter.update_from_headers(response.headers)

    def _wait_for_reset(self, error: RateLimited) -> None:
        """Wait out a 429: the pacer's pause holds us (and everyone) at the next acquire;
        without a pacer, sleep until the reset. A reset further than two minute-windows away
        is the daily budget: raise, and let the job be rescheduled.

        Whether Exact sends ``Retry-After`` on 429 is not documented anywhere (§12), so only
        the ``X-RateLimit-*`` resets are read.
        """
        minute = self._limiter.minute_window if self._limiter is not None else MINUTE
        if error.reset_at is None:
            wait = minute
        else:
            wait = (error.reset_at - self._clock()).total_seconds() + RATE_LIMIT_SKEW
            wait = max(wait, RATE_LIMIT_SKEW)
        if wait > 2 * minute + 1:
            raise error
        if self._limiter is None:
            self._sleep(wait)

    def _decode(self, response: requests.Response, endpoint: str) -> Any:
        if response.status_code == 204 or not response.content.strip():
            return None
        return decode_body(response.content, endpoint)

    def backoff(self, failures: int) -> float:
        """Seconds before retry ``failures + 1``: exponential, capped, jittered (50–100 %)."""
        delay = min(BACKOFF_CAP, BACKOFF_BASE * 2**failures)
        return delay * self._rng.uniform(0.5, 1.0)

    # -- envelopes and pagination ---------------------------------------------------------

    def get_data(self, endpoint: str, url: str, params: dict | None = None) -> Any:
        """GET and return the content of the ``{"d": …}`` envelope."""
        return unwrap(self.send("GET", endpoint, url, params=params), endpoint)

    def pages(
        self, endpoint: str, url: str, params: dict | None, schema: type[Schema] | None
    ) -> Iterator[dict]:
        """Yield every record of a list (loaded through ``schema`` if given), following
        ``__next`` until it is gone."""
        seen: set[str] = set()
        previous_first = None
        for _ in range(MAX_PAGES):
            rows, next_url = page_of(self.get_data(endpoint, url, params), endpoint)
            first = row_identity(rows[0]) if rows else None
            # A server that ignores $skiptoken serves the same page forever.
            if first is not None and first == previous_first:
                raise MalformedResponse(f"{endpoint}: a page repeats the previous one")
            yield from load(schema, rows, endpoint, many=True) if schema else rows
            if not next_url:
                return
            url, params = self.next_url(next_url, url, endpoint), None
            if url in seen:
                raise MalformedResponse(f"{endpoint}: __next points back to a page already read")
            seen.add(url)
            previous_first = first
        raise MalformedResponse(f"{endpoint}: more than {MAX_PAGES} pages")

    def next_url(self, next_url: str, current: str, endpoint: str) -> str:
        """The full URL ``__next`` gives — but only on our own host: the bearer token goes
        with it."""
        if next_url.startswith("/api/"):
            return f"{self.host}{next_url}"
        absolute = urljoin(current, next_url)
        ours, theirs = urlsplit(self.host), urlsplit(absolute)
        if (theirs.scheme, theirs.netloc) != (ours.scheme, ours.netloc):
            raise MalformedResponse(f"{endpoint}: __next leads to another host")
        return absolute
