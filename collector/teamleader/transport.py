"""Sending Teamleader calls through the shared transport, and unwrapping envelopes and pages.

What is Teamleader's own (the retry policy is ``collector.core.http``'s): every call is an
RPC ``POST <base_url>/<method>`` with a JSON body and the pinned ``X-Api-Version``; a call is
idempotent unless the client names it otherwise; every answer tells the shared limiter what
``X-RateLimit-Remaining``/``Reset`` say; a 429 pauses every process until
``X-RateLimit-Reset`` and waits for it (a bounded number of times) — or, inside a job whose
patience is shorter, raises ``collector.core.ratelimit.RateLimited`` so the worker is given
back until then.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

import requests
from marshmallow import Schema

from collector.core import http, ratelimit
from collector.core.tokens import TokenSource
from collector.teamleader import bodies
from collector.teamleader.errors import ERRORS, MalformedResponse, parse_reset
from collector.teamleader.ratelimit import WHAT, RateLimiter

# Pin the dated API version: otherwise behaviour depends on when the integration was
# registered (reference §2). 2023-09-26 turned custom field options into {id, value}.
API_VERSION = "2023-09-26"

# 429 bodies are undocumented and Retry-After is not a documented header (reference §4): we
# wait for X-RateLimit-Reset, a timestamp, plus a little for clock skew against Teamleader's.
RATE_LIMIT_FALLBACK = 5.0  # when Reset is missing or unparseable
RATE_LIMIT_MAX_WAIT = 61.0  # the window is one sliding minute: no honest Reset is further off
MAX_RATE_LIMIT_WAITS = 5
# The maximum page size is undocumented; SDKs use 100 (reference §3). Lists return no totals,
# so a page shorter than this is the last one.
PAGE_SIZE = 100
# ids per batched look-up: one .list call with filter.ids instead of one .info per id (§3).
BATCH_SIZE = 100


class TeamleaderTransport(http.Transport):
    """Sends calls for ``TeamleaderClient`` and unwraps envelopes and pages."""

    service = "teamleader"

    limiter: RateLimiter | None

    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        token_source: TokenSource,
        *,
        api_version: str = API_VERSION,
        not_idempotent: frozenset[str] = frozenset(),
        **options: Any,
    ) -> None:
        headers = {"X-Api-Version": api_version}
        super().__init__(
            session, base_url, ERRORS, token_source=token_source, headers=headers, **options
        )
        self._not_idempotent = not_idempotent

    def call(self, endpoint: str, body: dict | None = None) -> Any:
        """POST one API method; return its decoded JSON body, None for 204/empty."""
        return self.send(
            http.Call(
                "POST",
                endpoint,
                self.url(endpoint),
                body=body if body is not None else {},
                idempotent=endpoint not in self._not_idempotent,
            )
        )

    def observe(self, response: requests.Response) -> None:
        """Tell the shared limiter what Teamleader says is left of the budget; a 429 says
        nothing is left, whatever ``X-RateLimit-Remaining`` says, so every process pauses
        until the reset."""
        if self.limiter is None:
            return
        try:
            remaining = int(response.headers["X-RateLimit-Remaining"])
        except (KeyError, ValueError):
            remaining = None
        reset_at = parse_reset(response.headers.get("X-RateLimit-Reset"))
        if response.status_code == 429:
            remaining = 0
            reset_at = self.clock() + timedelta(seconds=self._wait_after_429(reset_at))
        self.limiter.update_from_headers(remaining, reset_at)

    def rate_limit_wait(self, error: http.RateLimited, waits: int) -> float | None:
        """Until ``X-RateLimit-Reset`` (+ skew), bounded; a few seconds when it is not given.

        A wait longer than the current patience (a job's) raises ``RateLimited`` instead.
        """
        if waits >= MAX_RATE_LIMIT_WAITS:
            return None
        wait = self._wait_after_429(error.reset_at)
        if ratelimit.exceeds_patience(wait):
            raise ratelimit.RateLimited(WHAT, self.clock().timestamp() + wait)
        return wait

    def _wait_after_429(self, reset_at: datetime | None) -> float:
        if reset_at is None:
            return RATE_LIMIT_FALLBACK
        return min(http.wait_until(reset_at, self.clock()), RATE_LIMIT_MAX_WAIT)

    # -- envelopes and pagination ---------------------------------------------------------

    def data(self, endpoint: str, body: dict) -> Any:
        """Call and return the ``data`` member of the response envelope."""
        payload = self.call(endpoint, body)
        if not isinstance(payload, dict) or "data" not in payload:
            raise MalformedResponse(f"{endpoint}: response has no data member", endpoint=endpoint)
        return payload["data"]

    def one(self, endpoint: str, body: dict, schema: type[Schema]) -> dict:
        """Call and load ``data`` as one record."""
        return self.load(schema, self.data(endpoint, body), endpoint)

    def many(self, endpoint: str, body: dict, schema: type[Schema]) -> list[dict]:
        """Call once and load ``data`` as a list of records."""
        data = self.data(endpoint, body)
        if not isinstance(data, list):
            raise MalformedResponse(f"{endpoint}: data is not a list", endpoint=endpoint)
        return self.load(schema, data, endpoint, many=True)

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
