"""The inbox: stored inbound events are handed to a job once, and the dispatcher finds
every one never handed over, or handed over so long ago its job must be lost."""

from datetime import timedelta

from rq import Queue

from collector.core.columns import utcnow
from collector.extensions import db
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


def test_hand_over_starts_one_job_and_marks_the_row(app, redis_conn):
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
