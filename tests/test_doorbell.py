"""The outbox's doorbell: a commit that owes delivery starts the channel's job, unless the
job that committed delivers it itself (``deliver_here``), as the payment path does."""

import uuid

import pytest
from rq import Queue

from collector.extensions import db
from collector.runtime import doorbell
from collector.runtime.models import JobRun


@pytest.fixture
def delivered(monkeypatch):
    """The Teamleader channel's in-job delivery, recorded instead of run."""
    calls = []

    def deliver():
        calls.append(db.session().in_transaction())
        return "1 synced"

    monkeypatch.setitem(doorbell.DELIVER_NOW, doorbell.TEAMLEADER, deliver)
    return calls


def ring_and_commit() -> None:
    db.session.add(JobRun(job_id=uuid.uuid4().hex, name="anything"))  # any write
    doorbell.wake(doorbell.TEAMLEADER)
    db.session.commit()


def started(redis_conn) -> list[str]:
    return [job.func_name for job in Queue("high", connection=redis_conn).jobs]


def test_a_commit_outside_a_job_starts_the_delivery_job(app, redis_conn, delivered):
    ring_and_commit()
    assert started(redis_conn) == ["collector.teamleader.jobs.push_teamleader"]
    assert delivered == []


def test_inside_deliver_here_the_job_delivers_after_its_work_and_starts_none(
    app, redis_conn, delivered
):
    with doorbell.deliver_here():
        ring_and_commit()
        ring_and_commit()
        assert delivered == []  # not before the block's work is done
    assert delivered == [False]  # once, after every commit of the block
    assert started(redis_conn) == []


def test_a_block_that_raises_leaves_delivery_to_the_job(app, redis_conn, delivered):
    with pytest.raises(RuntimeError), doorbell.deliver_here():
        ring_and_commit()
        raise RuntimeError("the provider went away")
    assert delivered == []
    assert started(redis_conn) == ["collector.teamleader.jobs.push_teamleader"]


def test_a_delivery_that_fails_here_is_left_to_the_job(app, redis_conn, monkeypatch):
    def fail():
        raise ConnectionError("Teamleader did not answer")

    monkeypatch.setitem(doorbell.DELIVER_NOW, doorbell.TEAMLEADER, fail)
    with doorbell.deliver_here():
        ring_and_commit()
    assert started(redis_conn) == ["collector.teamleader.jobs.push_teamleader"]


def test_a_block_that_rings_nothing_delivers_nothing(app, redis_conn, delivered):
    with doorbell.deliver_here():
        db.session.commit()
    assert delivered == []
    assert started(redis_conn) == []


def test_the_in_job_delivery_is_told_the_rows_its_block_rang(app, redis_conn, monkeypatch):
    told = []
    monkeypatch.setitem(
        doorbell.DELIVER_NOW, doorbell.TEAMLEADER, lambda: told.append(doorbell.rung())
    )
    with doorbell.deliver_here():
        for row_id in (7, 9):
            db.session.add(JobRun(job_id=uuid.uuid4().hex, name="anything"))
            doorbell.wake(doorbell.TEAMLEADER, row_id)
            db.session.commit()
    with doorbell.deliver_here():
        ring_and_commit()  # a ring that names no row: everything owed
    assert told == [frozenset({7, 9}), None]
    assert doorbell.rung() is None  # outside a delivery
