"""The runtime's rq jobs: recovery (runs that will not end on their own, stored events
never handed to a job) and housekeeping, which keeps the job history (and whatever other
domains keep only for a while) bounded."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app

from collector.runtime import housekeeping, inbox, recovery
from collector.runtime.queue import Periodic, Progress, tracked

# What other domains keep only for a while, pruned along with the job history: the name
# it is counted under → (what it is, the operation that prunes it and says how many it
# deleted). Filled by their ``jobs.connect``.
PRUNERS: dict[str, tuple[str, Callable[[], int]]] = {}


def prune_along(name: str, what: str, prune: Callable[[], int]) -> None:
    """Have the housekeeping job also call ``prune``, counting what it deleted as ``name``."""
    PRUNERS[name] = (what, prune)


# What other domains check along with recovery: the name it is counted under → an
# operation that ends or restarts their rows whose work stopped, and says how many.
RECOVERERS: dict[str, Callable[[], int]] = {}


def recover_along(name: str, recover: Callable[[], int]) -> None:
    """Have recovery also call ``recover``, counting what it did as ``name``."""
    RECOVERERS[name] = recover


@tracked
def prune_job_runs(keep_days: int = 90, *, progress: Progress) -> str:
    """Delete old job history, and what other domains keep only for a while."""
    progress.total(1)
    deleted = housekeeping.prune_job_runs(keep_days)
    counts = {name: prune() for name, (_what, prune) in PRUNERS.items()}
    progress.advance(deleted=deleted, **counts)
    pruned = "".join(f", {counts[name]} {what}" for name, (what, _prune) in PRUNERS.items())
    return f"Deleted {deleted} job runs older than {keep_days} days{pruned}"


@tracked
def recover_jobs(*, progress: Progress) -> str:
    """End or restart the runs whose worker stopped or whose job Redis lost; hand every
    stored inbound event still owed handling to a job."""
    return recover_now()


def recover_now() -> str:
    """What ``recover_jobs`` does, callable outside a job (a worker starting up)."""
    runs = recovery.recover(current_app.extensions["jobs"])
    events = inbox.dispatch()
    rows = {name: recover() for name, recover in RECOVERERS.items()}
    told = ", ".join(f"{n} {name}" for name, n in {**runs, **events, **rows}.items() if n)
    return f"Recovered: {told}" if told else "Nothing to recover."


PERIODIC = (
    Periodic(recover_jobs, "high", interval=60),
    Periodic(prune_job_runs, "low", cron="17 3 * * *"),
)
