"""Every request: its id, its line in the log, its time in the metrics.

Before the request: the id (``request_ids``: the caller's ``X-Request-ID`` when it is
acceptable, else a new one) and the start time. After it: the id in the response, the
time in ``collector_http_request_duration_seconds`` by Flask endpoint (the route's name,
never the path, which may hold a token) and status class, and one line in the log with
the method, endpoint, masked path, status, milliseconds and id (``structured_log``).
"""

from __future__ import annotations

import contextlib
import time

from flask import Flask, current_app, g, request

from collector.core import metrics
from collector.runtime import access_log, request_ids, structured_log

UNMATCHED = "unmatched"  # the endpoint label of a request no route took (a 404, a 405)


def install(app: Flask) -> None:
    app.before_request(_begin)
    app.after_request(_finish)
    app.teardown_request(_forget)


def _begin() -> None:
    g.request_started = time.perf_counter()
    g.request_id = request_ids.accept(request.headers.get(request_ids.HEADER))
    g.request_id_token = request_ids.begin(g.request_id)


def _finish(response):
    started = g.get("request_started")
    if started is None:  # a before_request ahead of ours answered: nothing to measure
        return response
    seconds = time.perf_counter() - started
    response.headers[request_ids.HEADER] = g.request_id
    endpoint = request.endpoint or UNMATCHED
    status = metrics.status_class(response.status_code)
    metrics.REQUEST_SECONDS.labels(endpoint, request.method, status).observe(seconds)
    structured_log.write(
        current_app.config,
        "request",
        method=request.method,
        endpoint=endpoint,
        path=access_log.mask(request.path),
        status=response.status_code,
        duration_ms=round(seconds * 1000, 1),
        request_id=g.request_id,
    )
    return response


def _forget(_exc) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        with contextlib.suppress(ValueError):  # ended in another context than it began
            request_ids.end(token)
