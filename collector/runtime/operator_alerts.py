"""What needs a person, recorded where the failure is recorded and mailed to the admins as
one digest (``accounts.digest``), not one mail per failure.

``record`` writes (or counts again) an ``OperatorAlert`` in the caller's transaction, so
the alert is kept exactly when the failure is. ``take_waiting`` hands the rows no digest
has taken yet to a new ``OperatorDigest``: the owed work is a query on those rows, so a
worker that dies before its digest is made loses nothing.

When to record is the caller's: each records once per failure streak as it did when it
mailed (a connection once when it needs reconnecting, an Exact document once when it has
failed ``alert_after`` runs, a Teamleader refusal once per document), and every failed job
run. The count gathers what repeats before the next digest.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from collector.core.columns import utcnow
from collector.extensions import db
from collector.runtime import housekeeping
from collector.runtime.models import JobRun, OperatorAlert, OperatorDigest

# The kinds, in the order a digest lists them.
CONNECTION = "connection"  # a refresh token or an API key was refused: fix the connection
EXACT_REFUSED = "exact_refused"  # a document failed ``alert_after`` Exact runs in a row
SYNC_REFUSED = "sync_refused"  # Teamleader refused a document's payment status
JOB_FAILED = "job_failed"  # a job run failed (it is not retried) or its worker was lost
JOBS_PAGE = "job_runs.index"
KINDS = (CONNECTION, EXACT_REFUSED, SYNC_REFUSED, JOB_FAILED)


def record(
    kind: str,
    subject: str,
    fact: str,
    endpoint: str,
    *,
    session: Session | None = None,
    now: datetime | None = None,
) -> OperatorAlert:
    """Note that ``subject`` needs a person (``fact``: what went wrong; ``endpoint``: the
    page where it is fixed), in ``session``'s transaction (default: ``db.session``),
    which the caller commits. A repeat before the next digest counts on the same row."""
    if kind not in KINDS:
        raise ValueError(f"unknown operator alert kind: {kind!r}")
    session = session or db.session
    now = now or utcnow()
    subject, fact = subject[:128], fact[:500]
    row = _waiting(session, kind, subject)
    if row is None:
        try:
            with session.begin_nested():
                row = OperatorAlert(
                    kind=kind, subject=subject, fact=fact, endpoint=endpoint,
                    first_seen=now, last_seen=now, count=1,
                )  # fmt: skip
                session.add(row)
            return row
        except IntegrityError:  # another transaction wrote it first: count on theirs
            row = _waiting(session, kind, subject)
    row.count += 1
    row.last_seen, row.fact, row.endpoint = now, fact, endpoint
    return row


def failed_run(run: JobRun, now: datetime | None = None) -> OperatorAlert:
    """A job run failed (it is not retried) or its worker was lost: one line per job in
    the next digest, however many of its runs failed meanwhile."""
    error = (run.error or "").splitlines()[0] if run.error else "failed"
    return record(JOB_FAILED, run.name, error, JOBS_PAGE, now=now)


def _waiting(session: Session, kind: str, subject: str) -> OperatorAlert | None:
    query = sa.select(OperatorAlert).where(
        OperatorAlert.kind == kind,
        OperatorAlert.subject == subject,
        OperatorAlert.digest_id.is_(None),
    )
    return session.scalars(query.with_for_update()).one_or_none()


def waiting() -> list[OperatorAlert]:
    """The alerts no digest has taken yet, oldest first."""
    query = sa.select(OperatorAlert).where(OperatorAlert.digest_id.is_(None))
    return list(db.session.scalars(query.order_by(OperatorAlert.first_seen, OperatorAlert.id)))


def take_waiting(now: datetime | None = None) -> OperatorDigest | None:
    """A new digest holding every alert no digest has taken, or None when there is none.
    Not committed: the caller adds who it is owed to in the same transaction."""
    rows = db.session.scalars(
        sa.select(OperatorAlert)
        .where(OperatorAlert.digest_id.is_(None))
        # Two digests at once never take the same row; a row being counted again waits.
        .with_for_update(skip_locked=True)
    ).all()
    if not rows:
        return None
    digest = OperatorDigest(created_at=now or utcnow(), items=len(rows))
    db.session.add(digest)
    db.session.flush()
    for row in rows:
        row.digest_id = digest.id
    return digest


def last_digest_at() -> datetime | None:
    """When the newest digest was made, or None before the first."""
    return db.session.scalar(sa.select(sa.func.max(OperatorDigest.created_at)))


def of_digest(digest_id: int) -> list[OperatorAlert]:
    """The alerts ``digest_id`` took, in the order a digest lists them."""
    rows = db.session.scalars(
        sa.select(OperatorAlert)
        .where(OperatorAlert.digest_id == digest_id)
        .order_by(OperatorAlert.first_seen, OperatorAlert.id)
    ).all()
    return sorted(rows, key=lambda row: KINDS.index(row.kind))


def prune_digests(keep_days: int = 90) -> int:
    """Delete the digests older than ``keep_days`` with the alerts they took and who they
    were owed to (alerts no digest took stay); return how many digests. Commits."""
    return housekeeping.prune_older(OperatorDigest.created_at, keep_days)
