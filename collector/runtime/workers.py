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


class GeneralWorker(StaysRegistered, Worker):
    """The general lane: rq's forking worker, staying registered."""
