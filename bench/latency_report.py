"""What a payment bench's runs come to: the job history of a run read back, and the
figures printed (latencies by percentile and the runs' spread, stages, calls, jobs, CPU by
process, and what went wrong)."""

from __future__ import annotations

import math
import os
import statistics
from collections import Counter
from dataclasses import dataclass, field

from payment_world import RATE_LIMIT, Import, Target

from collector.extensions import db
from collector.payments.models import ProviderNotification
from collector.runtime.models import JobRun, JobStatus
from collector.teamleader.models import TeamleaderSync


@dataclass
class Sent:
    """One payment marked paid at the provider."""

    target: Target
    provider_id: str
    t0: float
    answered: float
    webhook_status: int | None
    received: float | None = None  # when Teamleader got registerPayment for it

    @property
    def latency(self) -> float | None:
        return None if self.received is None else self.received - self.t0


@dataclass
class Result:
    scenario: str
    sent: list[Sent]
    calls: Counter  # Teamleader sandbox counters
    provider_calls: Counter
    registrations: Counter  # accepted registerPayment calls per invoice
    stages: dict[str, float]  # median seconds after t0
    jobs: Counter = field(default_factory=Counter)
    idle_pushes: int = 0
    job_seconds: float = 0.0  # started → finished, summed over the scenario's jobs
    failed: Counter = field(default_factory=Counter)
    first_error: str | None = None
    syncs: Counter = field(default_factory=Counter)
    beside: Import | None = None  # the import running beside the payments
    cpu: dict[str, float] = field(default_factory=dict)  # CPU s by role, t0 → settled

    @property
    def measured(self) -> list[float]:
        """The latencies that count: of the payments made while the import ran, if one did."""
        sent = self.sent
        if self.beside is not None:
            sent = [s for s in sent if self.beside.running_at(s.t0)]
        return sorted(s.latency for s in sent if s.latency is not None)

    @property
    def latencies(self) -> list[float]:
        return sorted(s.latency for s in self.sent if s.latency is not None)

    @property
    def missing(self) -> list[Sent]:
        return [s for s in self.sent if s.received is None]


def read_jobs(result: Result, started) -> None:
    """The job history of the scenario: the webhook calls' stages, pushes, failures, syncs."""
    runs = db.session.scalars(db.select(JobRun).where(JobRun.created_at >= started)).all()
    query = db.select(
        ProviderNotification.provider_id,
        ProviderNotification.received_at,
        ProviderNotification.dispatched_at,
        ProviderNotification.processed_at,
    ).where(ProviderNotification.received_at >= started)
    calls = {row.provider_id: row for row in db.session.execute(query)}
    stages = {"webhook answered": [], "webhook stored": [], "taken by a job": []}
    stages["payment recorded"] = []
    for s in result.sent:
        stages["webhook answered"].append(s.answered - s.t0)
        call = calls.get(s.provider_id)
        if call is not None and call.processed_at is not None:
            stages["webhook stored"].append(call.received_at.timestamp() - s.t0)
            stages["taken by a job"].append(call.dispatched_at.timestamp() - s.t0)
            stages["payment recorded"].append(call.processed_at.timestamp() - s.t0)
    stages["registerPayment received"] = result.latencies
    result.stages = {k: statistics.median(v) for k, v in stages.items() if v}
    result.jobs = Counter(r.name for r in runs)
    result.job_seconds = sum(
        (r.finished_at - r.started_at).total_seconds() for r in runs if r.finished_at
    )
    result.idle_pushes = sum(r.name == "push_teamleader" and "in line" in r.message for r in runs)
    failed = [r for r in runs if r.status == JobStatus.FAILED]
    result.failed = Counter(r.name for r in failed)
    result.first_error = failed[0].error[:300] if failed else None
    ids = [s.target.id for s in result.sent]
    syncs = db.select(TeamleaderSync.status).where(TeamleaderSync.invoice_id.in_(ids))
    result.syncs = Counter(str(status) for status in db.session.scalars(syncs))


# -- the figures -------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least q % of the values at or below it."""
    return values[max(0, math.ceil(q / 100 * len(values)) - 1)]


def figures(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    return {
        "median": statistics.median(values),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
        "max": values[-1],
    }


def report(results: dict[str, list[Result]], args, burst_threads: int) -> None:
    """Per scenario (``results`` by title): each run's figures, then all runs' payments
    pooled, with the spread (lowest–highest) of the runs' median and p99."""
    print(
        f"Payment → Teamleader: database {'PostgreSQL' if args.server else 'SQLite'};"
        f" {args.payments} payments a run, {args.runs} run(s) each; a worker is one"
        f" worker.py; bursts: {burst_threads} webhook calls in flight; import beside:"
        f" about {args.import_size:,} documents; rate limits raised to {RATE_LIMIT:,}/min"
    )
    print(
        f"{'scenario':<44}{'payments':>9}{'median s':>10}{'p90 s':>8}{'p99 s':>8}{'max s':>8}"
        f"{'median spread':>17}{'p99 spread':>15}"
    )
    for title, runs in results.items():
        pooled = sorted(v for r in runs for v in r.measured)
        f = figures(pooled)
        medians = [figures(r.measured).get("median", math.nan) for r in runs]
        p99s = [figures(r.measured).get("p99", math.nan) for r in runs]
        cells = "".join(f"{f.get(k, math.nan):>{w}.3f}" for k, w in _COLUMNS)
        print(f"{title:<44}{len(pooled):>9}{cells}{_spread(medians):>17}{_spread(p99s):>15}")
    for title, runs in results.items():
        for n, r in enumerate(runs, 1):
            _details(r, f"{title}, run {n}")
    print(
        "latency: the provider told the payment is paid (t0) → the Teamleader sandbox received"
        " invoices.registerPayment for that invoice (its own arrival log). Beside an import,"
        " only the payments made while it ran count."
    )


_COLUMNS = (("median", 10), ("p90", 8), ("p99", 8), ("max", 8))


def _spread(values: list[float]) -> str:
    return f"{min(values):.3f}–{max(values):.3f}" if values else "—"


def _details(r: Result, title: str) -> None:
    f = figures(r.measured)
    summary = ", ".join(f"{k} {v:.3f}" for k, v in f.items()) or "no payment arrived"
    print(f"{title}: {len(r.measured)} payments; {summary}")
    stages = ", ".join(f"{k} {v:.3f}" for k, v in r.stages.items())
    print(f"  stages, median s after t0: {stages}")
    if r.beside is not None:
        b = r.beside
        span = (b.finished - b.started) if b.finished and b.started else math.nan
        print(
            f"  import beside: {b.documents:,} documents in {span:.1f} s; {len(r.measured)}"
            f" of {len(r.sent)} payments made while it ran"
        )
    per = len(r.sent)
    calls = "  ".join(f"{k} {v / per:.2f}" for k, v in sorted(r.calls.items()))
    provider = "  ".join(f"{k} {v / per:.2f}" for k, v in sorted(r.provider_calls.items()))
    print(f"  Teamleader calls per payment: {calls}")
    print(f"  provider calls per payment: {provider}")
    jobs = "  ".join(f"{k} {v}" for k, v in sorted(r.jobs.items()))
    print(f"  jobs: {jobs} ({r.idle_pushes} push_teamleader runs found Teamleader in line)")
    print(f"  job time per payment: {r.job_seconds / per:.3f} s (started → finished)")
    print(f"  Teamleader sync rows: {dict(r.syncs)}")
    if r.cpu:
        total = sum(r.cpu.values())
        roles = ", ".join(f"{k} {v / per * 1000:.1f}" for k, v in r.cpu.items())
        print(
            f"  CPU per payment, ms (t0 → settled): {roles}; all {total / per * 1000:.1f};"
            f" on {os.cpu_count()} cores at best {total / (os.cpu_count() or 1):.2f} s for the"
            f" {per}"
        )
    _warnings(r)


def _warnings(r: Result) -> None:
    for s in r.missing:
        print(
            f"  ! {s.provider_id} (invoice {s.target.id}) did not reach Teamleader within"
            f" --timeout; the provider's webhook was answered HTTP {s.webhook_status}"
        )
    twice = {k: v for k, v in r.registrations.items() if v > 1}
    if twice:
        print(f"  ! registered more than once: {twice}")
    bad_hooks = Counter(s.webhook_status for s in r.sent if s.webhook_status != 200)
    if bad_hooks:
        print(f"  ! provider webhook answers other than 200: {dict(bad_hooks)}")
    if r.failed:
        print(f"  ! failed jobs: {dict(r.failed)}; first: {r.first_error}")
