"""Log lines a machine reads: with ``LOG_FORMAT=json`` (the default in production) every
line is one JSON object, and the service writes one per request (``request_log``) and one
per job (``queue.tracked``) with their fields, under the request id that ties a job to the
request that started it.

In development (``LOG_FORMAT=text``) lines stay as people read them, and the request and
job lines are written at DEBUG, below the default level: ``make run`` shows no more than
before (the dev server prints its own request line).

Secrets never reach a line: a path is masked by ``access_log.mask`` before it is logged,
no query string, header, form or body is logged, and every message (an exception's too)
goes through the same mask once more when it is formatted.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from collector.runtime import access_log, request_ids

EVENTS = "collector.events"  # the logger of the request and job lines
JSON, TEXT = "json", "text"
# The attributes every LogRecord has: anything else on a record came in ``extra``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}

log = logging.getLogger(EVENTS)


def log_format(config) -> str:
    """``json`` or ``text``: what ``LOG_FORMAT`` says, else json in production."""
    chosen = str(config.get("LOG_FORMAT") or "").strip().lower()
    if chosen in (JSON, TEXT):
        return chosen
    if chosen:
        raise ValueError(f"LOG_FORMAT is 'json' or 'text', not {chosen!r}")
    return JSON if config.get("ENV") == "production" else TEXT


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, the request id of the
    request or job it was written for, and the fields given in ``extra``."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": access_log.mask(record.getMessage()),
        }
        fields = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        line.update(fields)
        if "request_id" not in line and request_ids.current():
            line["request_id"] = request_ids.current()
        if record.exc_info:
            line["exception"] = access_log.mask(self.formatException(record.exc_info))
        return json.dumps(line, default=str, ensure_ascii=False)


def configure(config) -> str:
    """Set the log format of this process from the settings; returns it. JSON replaces the
    formatter of the handlers ``logging.basicConfig`` made (stderr), and no other: a
    server's or a test's own handlers keep theirs."""
    chosen = log_format(config)
    if chosen == JSON:
        for handler in logging.getLogger().handlers:
            if type(handler) is logging.StreamHandler:
                handler.setFormatter(JsonFormatter())
    return chosen


def event_level(config) -> int:
    """The level of the request and job lines: INFO in JSON, DEBUG (hidden) in text."""
    return logging.INFO if log_format(config) == JSON else logging.DEBUG


def write(config, message: str, **fields) -> None:
    """One request or job line with ``fields`` (names and numbers, never a secret)."""
    chosen = log_format(config)
    level = logging.INFO if chosen == JSON else logging.DEBUG
    if not log.isEnabledFor(level):
        return
    if chosen == JSON:
        log.log(level, message, extra=fields)
    else:  # the fields in the line, for a person running with LOG_LEVEL=DEBUG
        said = " ".join(f"{name}={value}" for name, value in fields.items())
        log.log(level, "%s %s", message, said, extra=fields)
