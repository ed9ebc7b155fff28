"""``worker.py`` as an operator starts it: a payment lane (the high queue, no fork per
job) beside a general forking worker, tied together so neither outlives the other, and a
job of either lane whose process is killed is run again."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from rq import Worker
from rq.job import Job
from rq.registry import StartedJobRegistry

from collector.extensions import db
from collector.runtime.models import JobRun
from tests.conftest import app_config
from tests.support import jobs as test_jobs

ROOT = Path(__file__).resolve().parent.parent


def start_worker(app, **settings) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
        "REDIS_URL": app.config["REDIS_URL"],
        "DOCUMENT_STORAGE": app.config["DOCUMENT_STORAGE"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "ENV": "test",
        **settings,
    }
    return subprocess.Popen(  # noqa: S603 - fixed argv
        [sys.executable, str(ROOT / "worker.py")],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def registered(redis_conn, count: int, proc: subprocess.Popen) -> list[Worker]:
    deadline = time.monotonic() + 60
    while True:
        workers = Worker.all(connection=redis_conn)
        if len(workers) >= count:
            return workers
        assert proc.poll() is None, "worker.py exited"
        assert time.monotonic() < deadline, "the rq workers never registered"
        time.sleep(0.2)


def gone(pid: int, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def run_of(job_id: str, message_start: str, seconds: float = 60) -> JobRun:
    deadline = time.monotonic() + seconds
    while True:
        db.session.expire_all()
        run = db.session.scalars(db.select(JobRun).filter_by(job_id=job_id)).one_or_none()
        if run is not None and run.message.startswith(message_start):
            return run
        assert time.monotonic() < deadline, f"job {job_id} never said {message_start!r}"
        time.sleep(0.2)


def started(queue: str, redis_conn) -> list[tuple[bytes, float]]:
    """rq's started registry: (member, expiry time) pairs."""
    key = StartedJobRegistry(queue, connection=redis_conn).key
    return redis_conn.zrange(key, 0, -1, withscores=True)


def busy(app, stop) -> None:
    """Keep the general worker on a long job; its work horse (a session of its own) is
    killed with the test."""
    run = app.extensions["jobs"].enqueue(test_jobs.linger, 30, queue="default")
    horse = int(run_of(run.job_id, "lingering").message.rsplit(" ", 1)[1])
    stop(horse)


@pytest.fixture
def stop():
    procs = []
    yield procs.append
    for proc in procs:
        if isinstance(proc, int):
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc, signal.SIGKILL)
        else:
            kill_group(proc)


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL worker.py's whole process group, three times: a process forked while the
    first signal went out (rq's scheduler) would otherwise outlive the test."""
    for _ in range(3):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        time.sleep(0.2)
    proc.wait()


def test_one_worker_py_is_a_payment_lane_beside_a_general_worker(app, redis_conn, stop):
    proc = start_worker(app)
    stop(proc)
    workers = {w.pid: w for w in registered(redis_conn, 2, proc)}
    general = workers.pop(proc.pid)
    [lane] = workers.values()
    assert general.queue_names() == ["high", "default", "low"]
    assert lane.queue_names() == ["high"]

    # With the general worker busy on a long job, a high job runs in the lane's own
    # process: no work horse is forked for it.
    busy(app, stop)
    run = app.extensions["jobs"].enqueue(test_jobs.linger, 3, queue="high")
    assert run_of(run.job_id, "lingering").message == f"lingering in process {lane.pid}"


def test_the_payment_lane_stops_when_its_worker_py_is_killed(app, redis_conn, stop):
    proc = start_worker(app)
    stop(proc)
    lane_pid = next(w.pid for w in registered(redis_conn, 2, proc) if w.pid != proc.pid)
    os.kill(proc.pid, signal.SIGKILL)  # the parent alone: no process group signal
    proc.wait()
    assert gone(lane_pid), "the payment lane outlived its worker.py"


def test_a_payment_lane_job_killed_with_its_process_is_run_again(app, redis_conn, stop):
    proc = start_worker(app)
    stop(proc)
    registered(redis_conn, 2, proc)
    busy(app, stop)
    run = app.extensions["jobs"].enqueue(test_jobs.linger, 120, queue="high")
    run = run_of(run.job_id, "lingering")
    # The lane beats while the job runs, with a forking worker's TTL (10 s + 60 s), so its
    # death is noticed in about a minute, not after the job's 30-minute timeout.
    time.sleep(25)
    [expires] = [score for _, score in started("high", redis_conn)]
    assert time.time() + 55 < expires < time.time() + 75
    kill_group(proc)
    # The lane runs the job in its own process: the process named in the message.
    assert gone(int(run.message.rsplit(" ", 1)[1]))
    StartedJobRegistry("high", connection=redis_conn).cleanup(time.time() + 3600)
    assert Job.fetch(run.job_id, connection=redis_conn).get_status() == "scheduled"


def test_single_runs_one_forking_worker_on_every_queue(app, redis_conn, stop):
    proc = start_worker(app, WORKER_LANES="single")
    stop(proc)
    [worker] = registered(redis_conn, 1, proc)
    time.sleep(1)  # a lane, were one started, would have registered by now
    assert [w.pid for w in Worker.all(connection=redis_conn)] == [proc.pid]
    assert worker.queue_names() == ["high", "default", "low"]


def test_an_unknown_lanes_setting_stops_worker_py_with_the_reason(app):
    proc = start_worker(app, WORKER_LANES="many")
    assert proc.wait(timeout=60) != 0


@pytest.mark.parametrize("worker_class", ["GeneralWorker", "PaymentLane"])
def test_a_worker_that_redis_forgot_registers_again_at_its_next_beat(redis_conn, worker_class):
    from collector.runtime.lane import PaymentLane
    from collector.runtime.workers import GeneralWorker

    cls = {"GeneralWorker": GeneralWorker, "PaymentLane": PaymentLane}[worker_class]
    worker = cls(["high"], connection=redis_conn)
    worker.register_birth()
    worker.heartbeat()  # a beat while registered changes nothing
    assert [w.name for w in Worker.all(connection=redis_conn)] == [worker.name]
    born = redis_conn.hget(worker.key, "birth")

    redis_conn.flushdb()  # Redis restarted empty
    assert Worker.all(connection=redis_conn) == []
    worker.heartbeat()

    again = Worker.all(connection=redis_conn)
    assert [w.name for w in again] == [worker.name]
    assert [q.name for q in again[0].queues] == ["high"]
    assert redis_conn.hget(worker.key, "birth") == born  # the same worker, not a new one
    assert redis_conn.ttl(worker.key) > 0
    worker.register_death()


# The general lane as worker.py runs it (its scheduler in a process of its own), with a
# stop that reaches a new work horse while it is still in the worker's process group: the
# horse sends itself the group's SIGTERM, and its worker its own, at the horse's start.
STOPPED_WHILE_FORKING = textwrap.dedent(
    """
    import json, os, signal, sys
    import worker
    from collector import create_app
    from collector.runtime.workers import GeneralWorker

    class StoppedWhileForking(GeneralWorker):
        def main_work_horse(self, job, queue):
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getppid(), signal.SIGTERM)
            super().main_work_horse(job, queue)

    worker.work(create_app(json.loads(sys.argv[1])), StoppedWhileForking, ["default"])
    """
)


def test_a_stop_for_the_group_while_a_horse_forks_is_the_workers_alone(app, tmp_root):
    run = app.extensions["jobs"].enqueue(test_jobs.linger, 1, queue="default")
    done = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-c", STOPPED_WHILE_FORKING, json.dumps(app_config(tmp_root))],
        cwd=ROOT,
        timeout=60,
        capture_output=True,
        text=True,
    )
    # The horse finished its job; the worker stopped after it, as a warm stop does.
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert run_of(run.job_id, "done lingering", seconds=5)
