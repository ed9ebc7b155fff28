"""Claiming the outbox's rows towards Teamleader: a job claims every row it owes in one
statement, each claim counts itself until its delivery is recorded, and rows a run never
tried are given back at once."""

import time
from datetime import timedelta

import pytest

from collector.core.columns import utcnow
from collector.core.ratelimit import RateLimited
from collector.documents import ledger
from collector.documents.models import PaymentSource
from collector.extensions import db
from collector.runtime.queue import QuietProgress
from collector.teamleader import jobs as teamleader_jobs
from collector.teamleader import payment_sync, sync_claims
from collector.teamleader.models import TeamleaderSync
from tests.support.factories import make_invoice


def owed_rows(count: int) -> list[int]:
    """Sync rows owed by a payment each."""
    ids = []
    for n in range(count):
        invoice = make_invoice()
        ledger.record_payment(
            invoice,
            key=f"provider:tr_claim{n}",
            amount=invoice.amount_due,
            occurred_at=utcnow(),
            source=PaymentSource.PROVIDER,
            actor="provider",
        )
        db.session.commit()
        ids.append(invoice.teamleader_sync.id)
    return ids


def state(sync_id: int) -> tuple:
    db.session.expire_all()
    sync = db.session.get(TeamleaderSync, sync_id)
    return sync.lease_until is not None, sync.attempts, sync.unsettled


def test_one_statement_claims_what_is_owed_and_a_second_claim_finds_it_held(app):
    first, second, third = owed_rows(3)
    claims = sync_claims.claim_due(utcnow(), only=frozenset({first, second}))
    assert sorted(claims) == [first, second]
    assert all(c.settled_before and c.version == 1 for c in claims.values())
    assert [state(i) for i in (first, second, third)] == [(True, 1, 1), (True, 1, 1), (False, 0, 0)]
    assert sync_claims.claim_due(utcnow()).keys() == {third}
    assert sync_claims.claim(first, utcnow()) is None  # held


def test_a_claim_after_an_unrecorded_one_is_not_settled_before(app):
    [row] = owed_rows(1)
    sync_claims.claim(row, utcnow())  # a delivery that died before recording anything
    later = utcnow() + timedelta(seconds=sync_claims.LEASE_SECONDS + 1)  # its lease ran out
    claimed = sync_claims.claim(row, later)
    assert claimed is not None and not claimed.settled_before
    assert state(row)[2] == 2


def test_rows_a_stopped_run_never_tried_are_given_back(app, monkeypatch):
    first, second, third = owed_rows(3)
    tried = []

    def limited(client, connection, sync_id, claimed, now):
        tried.append(sync_id)
        if len(tried) == 2:
            raise RateLimited("Teamleader", time.time() + 30)
        return payment_sync.Delivery("nothing to change", synced=True)

    monkeypatch.setattr(payment_sync, "deliver_claimed", limited)
    with pytest.raises(RateLimited):
        teamleader_jobs.push_teamleader_now(QuietProgress())
    assert tried == [first, second]
    # The third was claimed with the others and never tried: as if never claimed.
    assert state(third) == (False, 0, 0)
    assert sync_claims.claim_due(utcnow(), only=frozenset({third})).keys() == {third}


def test_a_push_claims_a_few_rows_at_a_time_and_delivers_them_all(app, monkeypatch):
    rows = owed_rows(teamleader_jobs.CLAIM_CHUNK + 2)
    chunks = []
    real = sync_claims.claim_due

    def counted(now, only=None, limit=200):
        chunks.append(len(claims := real(now, only=only, limit=limit)))
        return claims

    monkeypatch.setattr(sync_claims, "claim_due", counted)
    # Not connected: each row is settled as "not sent", and not claimed again.
    assert teamleader_jobs.push_teamleader_now(QuietProgress()).startswith("0 synced")
    assert chunks == [teamleader_jobs.CLAIM_CHUNK, 2]
    db.session.expire_all()
    assert {db.session.get(TeamleaderSync, i).status for i in rows} == {"skipped"}
