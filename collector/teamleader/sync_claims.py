"""Claiming the outbox's rows towards Teamleader: a lease per row, taken with one
conditional UPDATE and committed before anything is sent, so two workers never push the
same document at once and a worker that dies leaves a lease that runs out.

Each claim also counts itself in the row's ``unsettled`` (see ``TeamleaderSync``): the
delivery that records its outcome sets it back to zero, so a claim that finds another
one uncounted knows an earlier delivery may have written without recording it, and
reads Teamleader before it writes (``reconciliation.reconcile``'s ``trusted``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from collector.extensions import db
from collector.teamleader.models import SyncStatus, TeamleaderSync

LEASE_SECONDS = 120


@dataclass(frozen=True)
class Claim:
    """A claimed row: the version to deliver, and whether every earlier delivery of the
    row recorded its outcome (then what the row says Teamleader holds is complete)."""

    version: int
    settled_before: bool


def claim(sync_id: int, now: datetime) -> Claim | None:
    """Take the row; None when another worker holds it or there is nothing to do."""
    return claim_due(now, only=frozenset({sync_id}), limit=1).get(sync_id)


def claim_due(now: datetime, only: frozenset[int] | None = None, limit: int = 200):
    """Take the rows with work whose time has come and no live lease (of ``only`` when
    given), oldest first, in one statement, and commit: ``{sync id: Claim}``."""
    claimable = sa.and_(
        TeamleaderSync.wanted > TeamleaderSync.done,
        TeamleaderSync.status.in_((SyncStatus.PENDING, SyncStatus.RETRYING)),
        TeamleaderSync.attempt_due(now),
        TeamleaderSync.unleased(now),
    )
    if only is not None:
        claimable = sa.and_(claimable, TeamleaderSync.id.in_(sorted(only)))
    # Chosen once (a materialised CTE): as a plain subquery PostgreSQL may run it again
    # for the rows being updated, and SKIP LOCKED would then find others to add.
    free = (
        sa.select(TeamleaderSync.id)
        .where(claimable)
        .order_by(TeamleaderSync.next_attempt_at, TeamleaderSync.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("free")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    rows = db.session.execute(
        sa.update(TeamleaderSync)
        .where(TeamleaderSync.id.in_(sa.select(free.c.id)), claimable)
        .values(
            lease_until=now + timedelta(seconds=LEASE_SECONDS),
            last_attempt_at=now,
            attempts=TeamleaderSync.attempts + 1,
            unsettled=TeamleaderSync.unsettled + 1,
        )
        .returning(
            TeamleaderSync.id,
            TeamleaderSync.wanted,
            TeamleaderSync.unsettled,
            TeamleaderSync.next_attempt_at,
        )
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    # RETURNING keeps no order (PostgreSQL hands rows back as it updated them): oldest
    # first again, as they were chosen.
    rows.sort(key=lambda row: (row.next_attempt_at is None, row.next_attempt_at, row.id))
    return {row.id: Claim(row.wanted, settled_before=row.unsettled == 1) for row in rows}


def unclaim(sync_ids: list[int]) -> None:
    """Give back rows claimed and never tried (the run stopped first): no attempt, no
    lease, nothing sent, so they stay as settled as they were."""
    if not sync_ids:
        return
    db.session.execute(
        sa.update(TeamleaderSync)
        .where(TeamleaderSync.id.in_(sync_ids))
        .values(
            lease_until=None,
            attempts=TeamleaderSync.attempts - 1,
            unsettled=TeamleaderSync.unsettled - 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
