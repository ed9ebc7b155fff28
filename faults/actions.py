"""What the scenarios do to the system and read from it: customers paying online, the
provider saying so, finding and killing the worker that runs a given job, and counting a
group of payments here and in Teamleader."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

import redis
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import StartedJobRegistry

from collector.runtime.queue import QUEUES
from faults import probes
from faults.browser import Browser
from faults.processes import Service
from faults.world import Target, World


def checkouts(world: World, targets: list[Target]) -> list[str]:
    """Each invoice's customer presses "Pay online"; the provider's payment ids, in order."""
    customer = Browser(world.stack.web_url)
    for target in targets:
        customer.pay_online(target.token)
    return [probes.latest_checkout(world.stack.database_url, t.id) for t in targets]


def mark_paid(world: World, provider_id: str) -> int | None:
    """The customer pays: the provider marks the payment paid and calls our webhook; the
    HTTP status our webhook answered (None: no answer)."""
    data = world.control("POST", f"provider/payments/{provider_id}/status", status="paid")
    return (data.get("webhook") or {}).get("status")


def registrations(world: World) -> Counter:
    """Every ``invoices.registerPayment`` the Teamleader sandbox accepted, per invoice."""
    return Counter(row["invoice_id"] for row in world.control("GET", "teamleader/registrations"))


@dataclass
class Payments:
    """A scenario's paid invoices: recorded here once each, registered in Teamleader once."""

    world: World
    targets: list[Target]
    provider_ids: list[str]

    def recorded(self) -> Counter:
        return probes.payments_recorded(self.world.stack.database_url, self.provider_ids)

    def registered(self) -> Counter:
        every = registrations(self.world)
        return Counter({t.teamleader_id: every[t.teamleader_id] for t in self.targets})

    def settled(self) -> bool:
        recorded, registered = self.recorded(), self.registered()
        return all(recorded[p] for p in self.provider_ids) and all(registered.values())

    def duplicated(self) -> int:
        over = [n - 1 for n in self.recorded().values() if n > 1]
        over += [n - 1 for n in self.registered().values() if n > 1]
        return sum(over)

    def count(self, row) -> None:
        """Fill in the row: unrecorded or unregistered payments are lost, seconds ones
        duplicated; the observed text says which."""
        recorded, registered = self.recorded(), self.registered()
        unrecorded = sum(not recorded[p] for p in self.provider_ids)
        unregistered = sum(not n for n in registered.values())
        row.lost = max(unrecorded, unregistered)
        row.duplicated = self.duplicated()
        row.recount = self.duplicated
        row.observed += (
            f" {len(self.targets) - unrecorded}/{len(self.targets)} recorded here,"
            f" {len(self.targets) - unregistered}/{len(self.targets)} registered in Teamleader"
            f" ({sum(registered.values())} registerPayment calls accepted)."
        )


def busy_with(world: World, job_name: str | tuple[str, ...]) -> list[tuple[Service, str]]:
    """(our worker service, rq job id) of each worker now running a job named ``job_name``
    (or any of several names).

    Read from rq's started-job registries and the job's ``worker_name``, not from rq's list
    of workers: after Redis restarts empty, running workers are no longer listed there.
    """
    connection = world.stack.redis_client()
    by_name = {name: service for service in world.stack.workers for name in service.rq_names}
    found = []
    try:
        for queue in QUEUES:
            registry = StartedJobRegistry(queue, connection=connection)
            for job_id in registry.get_job_ids(cleanup=False):
                try:
                    job = Job.fetch(job_id, connection=connection)
                except NoSuchJobError:
                    continue
                service = by_name.get(job.worker_name)
                name = job.func_name.rpartition(".")[2]
                wanted = (job_name,) if isinstance(job_name, str) else job_name
                if name in wanted and service is not None and service.alive():
                    found.append((service, job_id))
    except redis.RedisError:
        return []
    return found


def wait_busy(world: World, job_name: str | tuple[str, ...], seconds: float, also=lambda: True):
    """Block until a worker runs ``job_name`` — its JobRun says started, so the job's own
    code runs — and ``also()`` holds: (service, job id), or None when it did not happen
    in time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for service, job_id in busy_with(world, job_name):
            run = probes.job_run(world.stack.database_url, job_id=job_id)
            if run is not None and run[3] == "started" and also():
                return service, job_id
        time.sleep(0.05)
    return None


def kill_and_restart(service: Service) -> None:
    """SIGKILL the worker and the job it runs (its whole session); start it again, as a
    supervisor would."""
    with service.lock:
        service.kill()
        service.restart(timeout=60)
