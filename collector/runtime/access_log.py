"""Secrets out of the access logs. A webhook's path token authenticates its caller and a
payment page's token opens that page: the request lines gunicorn and werkzeug log would
hand both to whoever reads the logs, so the token part of those paths is masked.

The filter sits on the loggers the servers write their request lines to
(``gunicorn.access``, ``werkzeug``), so it works whatever handlers a deployment gives
them; the app factory installs it in every process that serves requests."""

from __future__ import annotations

import logging
import re

# The routes whose last path segment is a secret: /webhooks/teamleader/<token>,
# /webhooks/provider/<token>, /pay/<token>[/online|/return|/document.pdf], /portal/<token>[/…],
# the customer's signing page, /mandate/<token>[/sign|/revoke|…] (not the list, /mandates/),
# and the one-time links to choose a password, /password/new/<token>.
SECRET_PATHS = re.compile(
    r"(/webhooks/(?:teamleader|provider)/|/pay/|/portal/|/mandate/|/password/new/)[^/?#\s\"']+"
)
MASK = "***"
# The servers' request lines, and Flask's "Exception on <path>" (the app's logger).
MASKED_LOGGERS = ("gunicorn.access", "werkzeug", "collector")


def mask(text: str) -> str:
    """``text`` with the token of every secret path replaced by ``***``."""
    return SECRET_PATHS.sub(rf"\g<1>{MASK}", text)


class TokenMask(logging.Filter):
    """Rewrites a record whose message shows a secret path (never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


def install() -> None:
    """Put the mask on the servers' access loggers and the app's (once per process)."""
    for name in MASKED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, TokenMask) for f in logger.filters):
            logger.addFilter(TokenMask())
