"""The state of the connection to the payment provider, as admins see it.

A refused API key (401) or a webhook address the provider refuses to call (422 on
``webhookUrl``) stops online payment for every customer at once. The customer is asked to
try again in a few minutes; admins find it here: recorded when a call is refused
(``refused``), re-checked by the schedule with the cheapest authenticated call
(``check``), shown on the sync problems and settings pages, handed to the admins' digest
once per outage (``runtime.operator_alerts``, in the transaction that records it), and
cleared when a call succeeds again (``answered``, ``created``).
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from collector.core.columns import utcnow
from collector.extensions import db
from collector.payments import AuthError, ProviderClient, ProviderError, ValidationFailed
from collector.payments.models import ProviderProblem, ProviderStatus
from collector.payments.models import provider_status as model
from collector.runtime import operator_alerts

log = logging.getLogger(__name__)

ROW_ID = 1  # one provider account, one row
# The alert's subject in the admins' digest: kept in English, said in each reader's language.
SUBJECT = _l("Payment provider")
PAGE = "problems.index"  # where admins see the problem and what to do
HEADLINES = model.HEADLINES  # in English, for the log


def current() -> ProviderStatus | None:
    """The connection's row, or None when nothing was ever recorded."""
    return db.session.get(ProviderStatus, ROW_ID)


def problem() -> ProviderStatus | None:
    """The connection's row while it has a problem, else None."""
    row = current()
    return row if row is not None and row.problem is not None else None


def refusal(exc: ProviderError) -> ProviderProblem | None:
    """The connection problem ``exc`` shows, or None if it is about one call only."""
    if isinstance(exc, AuthError):
        return ProviderProblem.KEY_REJECTED
    if isinstance(exc, ValidationFailed) and exc.field == "webhookUrl":
        return ProviderProblem.WEBHOOK_REFUSED
    return None


def refused(exc: ProviderError) -> ProviderProblem | None:
    """Record the problem a refused call shows (if it shows one) and commit; call it
    outside any other transaction. Returns the problem."""
    found = refusal(exc)
    if found is None:
        return None
    detail = " — ".join(part for part in (exc.title, exc.detail) if part) or str(exc)
    row = _row()
    if row.problem != found:
        # A new outage: the admins' next digest tells of it (a repeat while it lasts is
        # the same outage, so it is recorded once).
        log.error("payment provider: %s (%s)", HEADLINES[found], detail)
        row.problem, row.since, row.alerted_at = found, utcnow(), utcnow()
        with force_locale("en"):
            subject, fact = str(SUBJECT), f"{HEADLINES[found]} ({detail})"
        operator_alerts.record(operator_alerts.CONNECTION, subject, fact, PAGE)
    row.detail = detail[:300]
    db.session.commit()
    return found


def answered() -> None:
    """An authenticated call succeeded: the key is accepted, so a key problem is over.
    Commits only when there was one."""
    _clear(ProviderProblem.KEY_REJECTED)


def created() -> None:
    """The provider created a payment: neither the key nor the webhook is refused."""
    _clear(ProviderProblem.KEY_REJECTED, ProviderProblem.WEBHOOK_REFUSED)


def check(provider: ProviderClient, now: datetime | None = None) -> ProviderStatus:
    """Make the cheapest authenticated call and record what it shows; commits. Raises
    the provider's other errors (it is away: the state stays as it was)."""
    try:
        provider.check_key()
    except AuthError as exc:
        refused(exc)
    else:
        answered()
    row = _row()
    row.checked_at = now or utcnow()
    db.session.commit()
    return row


def _clear(*problems: ProviderProblem) -> None:
    row = problem()
    if row is None or row.problem not in problems:
        return
    log.info("payment provider: %s — no longer", HEADLINES[row.problem])
    row.problem, row.since, row.alerted_at, row.detail = None, None, None, ""
    db.session.commit()


def _row() -> ProviderStatus:
    """The row, made if missing (two makers at once: the loser reads the winner's)."""
    row = current()
    if row is not None:
        return row
    try:
        with db.session.begin_nested():
            row = ProviderStatus(id=ROW_ID, detail="")
            db.session.add(row)
    except IntegrityError:
        row = current()
    return row
