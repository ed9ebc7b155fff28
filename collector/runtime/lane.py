"""The payment lane's rq worker: rq's ``SimpleWorker`` (each job in the worker's own
process, no fork, the database pool kept across jobs) with the forking worker's heartbeat.

rq's ``SimpleWorker`` beats only between jobs and so gives a running job a heartbeat TTL
of its whole timeout plus a minute: a lane killed mid-job would be noticed after half an
hour. Here a thread beats every ``job_monitoring_interval`` seconds while a job runs,
with the forking worker's TTL (interval + 60 s), so a killed lane's job is found
abandoned — and run again by rq's ``Retry`` — as soon as a forking worker's would be.
"""

from __future__ import annotations

import logging
import threading

from rq import SimpleWorker
from rq.job import Job
from rq.queue import Queue
from rq.worker import BaseWorker, WorkerStatus

from collector.runtime.workers import StaysRegistered

log = logging.getLogger(__name__)


class PaymentLane(StaysRegistered, SimpleWorker):
    """A ``SimpleWorker`` whose running job keeps beating (see the module)."""

    def get_heartbeat_ttl(self, job: Job) -> int:
        return BaseWorker.get_heartbeat_ttl(self, job)

    def execute_job(self, job: Job, queue: Queue) -> None:
        self.prepare_execution(job)
        done = threading.Event()
        beat = threading.Thread(target=self._beat, args=(job, done), daemon=True)
        beat.start()
        try:
            self.perform_job(job, queue)
        finally:
            done.set()
            beat.join()
        self.set_state(WorkerStatus.IDLE)

    def _beat(self, job: Job, done: threading.Event) -> None:
        # A beat racing the job's end may leave an execution key behind; it expires with
        # its TTL (a minute or so) and names a job that is over, which rq ignores.
        while not done.wait(self.job_monitoring_interval):
            try:
                self.maintain_heartbeats(job)
            except Exception:
                log.warning("heartbeat of job %s failed; the next one may do", job.id)
