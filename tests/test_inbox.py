"""The inbox: stored inbound events are handed to a job once, and the dispatcher finds
every one never handed over, or handed over so long ago its job must be lost."""

import dataclasses
from datetime import timedelta

from rq import Queue

from collector.core.columns import utcnow
from collector.extensions import db
from collector.payments import jobs as payments_jobs
from collector.payments import notifications
from collector.payments.models import NotificationStatus, ProviderNotification
from collector.runtime import inbox
from collector.runtime.models import JobRun


def stored(received_ago: timedelta, **values) -> ProviderNotification:
    row = ProviderNotification(provider_id="tr_abc", received_at=utcnow() - received_ago, **values)
    db.session.add(row)
    db.session.commit()
    return row


def runs_for(row) -> list[JobRun]:
    return [
        r
        for r in db.session.scalars(db.select(JobRun).filter_by(name="handle_provider_webhook"))
        if r.args == [row.id]
    ]


def test_hand_over_starts_one_job_and_marks_the_row(app, redis_conn, monkeypatch):
    # An inbox without a drain: one job per row (the provider's, its drain taken away).
    per_row = dataclasses.replace(inbox.INBOXES["provider"], drain=None)
    monkeypatch.setitem(inbox.INBOXES, "provider", per_row)
    row = notifications.receive("tr_abc")
    inbox.hand_over("provider", row)
    inbox.hand_over("provider", row)  # a second hand-over of the same row does nothing
    db.session.expire_all()
    assert (row.dispatches, row.dispatched_at is not None) == (1, True)
    [run] = runs_for(row)
    assert Queue("high", connection=redis_conn).job_ids == [run.job_id]


def test_the_dispatcher_starts_what_was_never_handed_over_and_leaves_the_rest(app, redis_conn):
    never = stored(timedelta(minutes=2))
    just_now = stored(timedelta(seconds=5))  # its receiver is handing it over right now
    handed = stored(timedelta(minutes=2), dispatched_at=utcnow() - timedelta(minutes=1))
    lease_over = stored(
        timedelta(minutes=20), dispatched_at=utcnow() - timedelta(minutes=6), dispatches=1
    )
    done = stored(timedelta(minutes=2), status=NotificationStatus.PROCESSED)
    hopeless = stored(
        timedelta(hours=2),
        dispatched_at=utcnow() - timedelta(hours=1),
        dispatches=inbox.MAX_DISPATCHES,
    )

    assert inbox.dispatch()["provider"] == 2
    assert inbox.dispatch()["provider"] == 0  # claimed: a second dispatcher starts nothing
    db.session.expire_all()
    assert [len(runs_for(r)) for r in (never, lease_over)] == [1, 1]
    assert [len(runs_for(r)) for r in (just_now, handed, done, hopeless)] == [0, 0, 0, 0]
    assert (never.dispatches, lease_over.dispatches) == (1, 2)


def test_a_handled_row_is_not_handled_again(app, redis_conn):
    row = notifications.receive("tr_abc")
    notifications.processed(row, "tr_abc is paid")
    assert notifications.owed(row.id) is None


def test_old_handled_calls_are_pruned_and_owed_ones_kept(app):
    old_done = stored(timedelta(days=40), status=NotificationStatus.PROCESSED)
    old_owed = stored(timedelta(days=40))
    recent_done = stored(timedelta(days=2), status=NotificationStatus.IGNORED)
    ids = (old_done.id, old_owed.id, recent_done.id)
    assert notifications.prune(30) == 1
    left = set(db.session.scalars(db.select(ProviderNotification.id)))
    assert left == set(ids[1:])


# -- an inbox with a drain (the provider's) ---------------------------------------------------


def drains(redis_conn) -> list:
    return [j for j in Queue("high", connection=redis_conn).jobs if not j.args]


def test_hand_overs_start_one_drain_while_it_waits_and_another_once_it_runs(app, redis_conn):
    for n in range(3):
        inbox.hand_over("provider", notifications.receive(f"tr_{n}"))
    assert len(drains(redis_conn)) == 1  # three calls stored, one drain waiting for them
    inbox.answer("provider")  # the drain starts: what comes now rings again
    inbox.hand_over("provider", notifications.receive("tr_late"))
    assert len(drains(redis_conn)) == 2
    rows = db.session.scalars(db.select(ProviderNotification)).all()
    assert [r.dispatched_at for r in rows] == [None] * 4  # taken by a drain, not at the door


def test_drains_take_each_row_once_and_a_dead_drains_rows_again_after_the_lease(app):
    ids = [notifications.receive(f"tr_{n}").id for n in range(7)]
    now = utcnow()
    first = inbox.take("provider", 5, now)
    second = inbox.take("provider", 5, now)
    assert first == ids[:5] and second == ids[5:]
    assert inbox.take("provider", 5, now) == []
    # The first drain handled two and died; the second handled both of its own.
    for row_id in first[:2] + second:
        notifications.processed(db.session.get(ProviderNotification, row_id), "done")
    assert inbox.take("provider", 5, now + inbox.TAKE_LEASE / 2) == []
    assert inbox.take("provider", 5, now + inbox.TAKE_LEASE * 2) == first[2:]


def test_rows_given_back_are_taken_at_once_and_the_take_is_not_counted(app):
    ids = [notifications.receive(f"tr_{n}").id for n in range(3)]
    taken = inbox.take("provider", 5)
    inbox.give_back("provider", taken[1:])  # the provider went away after the first
    assert inbox.take("provider", 5) == ids[1:]
    db.session.expire_all()
    assert [db.session.get(ProviderNotification, i).dispatches for i in ids] == [1, 1, 1]


def test_a_drain_that_ran_long_enough_leaves_the_rest_to_another(app, redis_conn, monkeypatch):
    monkeypatch.setattr(payments_jobs, "DRAIN_SECONDS", 0)
    for n in range(payments_jobs.BATCH + 2):
        notifications.receive(f"tr_{n}")
    # No provider is configured here: each call is marked ignored.
    assert payments_jobs.handle_provider_webhook() == f"{payments_jobs.BATCH} ignored"
    assert len(drains(redis_conn)) == 1  # rung for the other two
    assert payments_jobs.handle_provider_webhook() == "2 ignored"
