"""What both of ``worker.py``'s rq workers share: they stay registered in Redis.

rq registers a worker once, at its start (a hash under its key, and its name in the sets
``rq:workers`` and ``rq:workers:<queue>``, which ``rq info``, ``Worker.all`` and any
dashboard read). A Redis that restarts empty forgets them; an idle worker reconnects on
its own and goes on taking jobs, but nothing lists it any more. Here each beat outside a
job checks, in the same round trip, that the worker's hash still holds its birth, and
registers it again when it does not.
"""

from __future__ import annotations

import logging
import signal

from redis.client import Pipeline
from rq import Worker, worker_registration

log = logging.getLogger(__name__)


class StaysRegistered:
    """A mixin for an rq worker class (before it in the bases)."""

    def heartbeat(self, timeout: int | None = None, pipeline: Pipeline | None = None) -> None:
        if pipeline is not None:  # part of a job's beat: the caller executes it
            super().heartbeat(timeout, pipeline)  # type: ignore[misc]
            return
        with self.connection.pipeline() as beat:
            super().heartbeat(timeout, beat)  # type: ignore[misc]
            beat.hexists(self.key, "birth")
            *_, born = beat.execute()
        if not born:
            self._register_again(timeout or self.worker_ttl + 60)

    def _register_again(self, ttl: int) -> None:
        with self.connection.pipeline() as again:
            again.hset(self.key, mapping=self.serialize())
            worker_registration.register(self, again)
            again.expire(self.key, ttl)
            again.execute()
        log.warning("Redis had forgotten worker %s (restarted empty?): registered again", self.name)


# The signals a supervisor stops a worker's process group with.
STOPS = {signal.SIGTERM, signal.SIGINT}


class GeneralWorker(StaysRegistered, Worker):
    """The general lane: rq's forking worker, staying registered, whose work horses never
    take a stop meant for the worker.

    rq forks a work horse per job; the horse leaves the worker's process group and puts
    its own signal handling in place only after the fork. A stop sent to the group in
    between (``make run`` and honcho stop a child by its group) reached the new horse,
    which ran the *worker's* handler: it tried to stop the worker's scheduler process, not
    its child, and died with a traceback, failing its job. Here the stop signals are held
    across the fork: the worker takes a held one as soon as the fork is done, and the horse
    drops its copy once it is its own group with rq's horse handling in place.
    """

    def fork_work_horse(self, job, queue) -> None:
        self._mask_before_fork = signal.pthread_sigmask(signal.SIG_BLOCK, STOPS)
        try:
            super().fork_work_horse(job, queue)  # the horse never returns from it
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, self._mask_before_fork)

    def setup_work_horse_signals(self) -> None:
        super().setup_work_horse_signals()  # rq: SIGINT ignored, SIGTERM ends the horse
        if not hasattr(self, "_mask_before_fork"):
            return
        handlers = {sig: signal.signal(sig, signal.SIG_IGN) for sig in STOPS}
        # A held signal whose action is "ignore" is discarded when it is let through.
        signal.pthread_sigmask(signal.SIG_SETMASK, self._mask_before_fork)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
