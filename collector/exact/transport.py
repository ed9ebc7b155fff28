"""Sending Exact Online calls through the shared transport, and unwrapping the OData
envelope and its pages.

What is Exact's own (the retry policy is ``collector.core.http``'s: a GET is retried after a
5xx or a network error, a POST only when it surely never left, because Exact has no
uniqueness check, §5.6):
- bodies are Exact's JSON (``odata.encode_json``), and ``Prefer: return=representation``
  makes a POST answer with the whole record;
- a business validation error arrives as a 500 and is never retried (``errors``) — repeating
  it counts towards Exact's block of more than 10 errors per endpoint per hour (§3);
- every answer tells the shared pacer what the ``X-RateLimit-*`` headers say; a 429 waits for
  the reset (the pacer's pause, else our own sleep) a bounded number of times, and a reset
  too far away (the daily budget) is raised as ``RateLimited`` for the job to reschedule;
  inside a job, a wait longer than its patience raises ``collector.core.ratelimit.RateLimited``
  instead, so the worker is given back until the reset.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from marshmallow import Schema

from collector.core import http, ratelimit
from collector.core.tokens import TokenSource
from collector.exact.errors import ERRORS, DailyLimitReached, MalformedResponse
from collector.exact.odata import decode_body, encode_json, page_of, row_identity, unwrap
from collector.exact.ratelimit import DAILY_WHAT, WHAT, Pacer

HEADERS = {
    # Without it Exact answers in Atom XML (§2.1).
    "Accept": "application/json",
    # Without it a POST answers with the GUID only, every other property null (§2.1).
    "Prefer": "return=representation",
}
MINUTE = 60.0  # Exact's minute, when no pacer says how long ours is
MAX_RATE_LIMIT_WAITS = 3
MAX_PAGES = 10_000  # a runaway __next chain must end (60 rows a page: 600 000 rows)


class ExactTransport(http.Transport):
    """Sends calls for ``ExactClient`` and follows the ``__next`` pages of lists."""

    service = "exact"

    limiter: Pacer | None

    def __init__(
        self, session: requests.Session, host: str, token_source: TokenSource, **options: Any
    ) -> None:
        super().__init__(
            session, host, ERRORS, token_source=token_source, headers=HEADERS, **options
        )

    @property
    def host(self) -> str:
        """The Exact host the client talks to (``https://start.exactonline.<country>``)."""
        return self.base_url

    def request(
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
        headers = {"Content-Type": "application/json"} if data is not None else {}
        call = http.Call(method, endpoint, url, params=params, data=data, headers=headers)
        return self.send(call)

    def observe(self, response: requests.Response) -> None:
        """Tell the shared pacer what Exact says is left of the budgets."""
        if self.limiter is None:
            return
        if response.status_code == 429:
            self.limiter.rate_limited(response.headers)
        else:
            self.limiter.update_from_headers(response.headers)

    def rate_limit_wait(self, error: http.RateLimited, waits: int) -> float | None:
        """Wait out a 429: the pacer's pause holds us (and everyone) at the next acquire;
        without a pacer, sleep until the reset. A reset further than two minute-windows away
        is the daily budget: raise, and let the job be rescheduled.

        Within a job's patience, a longer wait (the daily budget's too) raises
        ``collector.core.ratelimit.RateLimited`` with the reset, for the job to be started
        again then.

        Whether Exact sends ``Retry-After`` on 429 is not documented anywhere (§12), so only
        the ``X-RateLimit-*`` resets are read.
        """
        if isinstance(error, DailyLimitReached):
            raise error  # the day's budget: nothing waits for it (errors.DailyLimitReached)
        if waits >= MAX_RATE_LIMIT_WAITS:
            return None
        minute = self.limiter.minute_window if self.limiter is not None else MINUTE
        reset_at = error.reset_at
        wait = minute if reset_at is None else http.wait_until(reset_at, self.clock())
        daily = wait > 2 * minute + 1
        if ratelimit.exceeds_patience(wait):
            what = DAILY_WHAT if daily else WHAT
            raise ratelimit.RateLimited(what, self.clock().timestamp() + wait)
        if daily:
            return None
        return 0.0 if self.limiter is not None else wait

    def decode(self, response: requests.Response, endpoint: str) -> Any:
        """A 2xx body as Exact writes it (``odata.decode_body``); None when empty."""
        if response.status_code == 204 or not response.content.strip():
            return None
        return decode_body(response.content, endpoint)

    # -- envelopes and pagination ---------------------------------------------------------

    def get_data(self, endpoint: str, url: str, params: dict | None = None) -> Any:
        """GET and return the content of the ``{"d": …}`` envelope."""
        return unwrap(self.request("GET", endpoint, url, params=params), endpoint)

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
            yield from self.load(schema, rows, endpoint, many=True) if schema else rows
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
