"""Faults of the whole system, each run alone: Redis down for 20 s under webhooks and page
loads; Teamleader answering 429 and the provider 5xx for a while; and the provider calling
the same webhook 50 times at once."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from faults import actions, probes
from faults.actions import Payments
from faults.runner import pause, scenario, until

OUTAGE = 20  # seconds Redis is down
# Seconds after Redis returns for every payment to be recorded and pushed: stored webhook
# calls wait 30 s before the dispatcher (every minute) takes them; the push follows at once.
AFTER_OUTAGE = 120
PAGES = ("/", "/invoices/", "/imports/", "/jobs/", "/customers/")
STORM = 30  # seconds Teamleader answers 429
PROVIDER_STORM = 15  # seconds the provider answers 503
STORM_CALLS = 10_000  # faults injected: more calls than a storm sees; cleared when it ends
AFTER_STORM = 90  # seconds after the storms for everything to be recorded and pushed
PROBE_BOUND = 10  # seconds a payment may take to be recorded while Teamleader is busy
DUPLICATES = 50


@scenario(
    5,
    "Redis down 20 s",
    f"webhooks answered 2xx and pages 200 during the outage; every payment recorded and "
    f"registered once in Teamleader within {AFTER_OUTAGE} s of Redis returning; no JobRun "
    "left queued/started",
    exclusive=True,
)
def redis_down(world, row):
    stack = world.stack
    targets = world.take(10)
    payments = Payments(world, targets, actions.checkouts(world, targets))
    browser = world.browser()
    began = datetime.now(UTC)
    webhooks, pages = Counter(), Counter()
    stack.redis.kill()
    try:
        for i, provider_id in enumerate(payments.provider_ids):
            webhooks[actions.mark_paid(world, provider_id)] += 1
            pages[browser.get(PAGES[i % len(PAGES)]).status_code] += 1
            time.sleep(max(0.0, (i + 1) * OUTAGE / len(targets) - _since(began)))
    finally:
        stack.redis.start()
    back = time.monotonic()
    settled = yield from until(payments.settled, AFTER_OUTAGE)
    took = time.monotonic() - back
    row.observed = (
        f"During the outage: webhooks answered {_histogram(webhooks)}, pages {_histogram(pages)}."
        + (f" All settled {took:.0f} s after Redis returned." if settled else "")
    )
    bad_hooks = sum(n for status, n in webhooks.items() if not _is_2xx(status))
    if bad_hooks:
        row.broken.append(f"{bad_hooks} webhook(s) not answered 2xx")
    bad_pages = sum(n for status, n in pages.items() if status != 200)
    if bad_pages:
        row.broken.append(f"{bad_pages} page(s) not 200")
    payments.count(row)
    # Runs queued while Redis was away are the ones a lost enqueue would strand.
    left = probes.runs_not_over_since(
        stack.database_url, began, datetime.now(UTC) - timedelta(seconds=30)
    )
    row.stuck = sum(left.values())
    if left:
        row.observed += f" Still queued/started: {_histogram(left)}."


@scenario(
    7,
    "Teamleader 429 and provider 5xx storms",
    f"nothing lost or doubled; while Teamleader answers 429, a provider webhook's payment "
    f"is still recorded within {PROBE_BOUND} s (no worker held asleep)",
    exclusive=True,
)
def storms(world, row):
    targets = world.take(7)
    busy, probe, failing = targets[:3], targets[3], targets[4:]
    payments = Payments(world, targets, actions.checkouts(world, targets))
    ids = dict(zip(targets, payments.provider_ids, strict=True))
    world.control("POST", "teamleader/faults", kind="rate_limit", count=STORM_CALLS)
    storm_began = time.monotonic()
    try:
        answers = [actions.mark_paid(world, ids[t]) for t in busy]
        yield from pause(3)  # their pushes meet the 429s
        answers.append(actions.mark_paid(world, ids[probe]))
        paid = time.monotonic()
        recorded = yield from until(
            lambda: probes.payments_recorded(world.stack.database_url, [ids[probe]])[ids[probe]],
            STORM - 5,
        )
        took = time.monotonic() - paid
        world.control("POST", "provider/faults", kind="error", status=503, count=STORM_CALLS)
        try:
            answers += [actions.mark_paid(world, ids[t]) for t in failing]
            yield from pause(PROVIDER_STORM)
        finally:
            world.control("DELETE", "provider/faults")
        yield from until(lambda: time.monotonic() - storm_began >= STORM, STORM)
    finally:
        world.control("DELETE", "teamleader/faults")
    storm = time.monotonic() - storm_began
    settled = yield from until(payments.settled, AFTER_STORM)
    row.observed = (
        f"Teamleader 429 for {storm:.0f} s, provider 503 for"
        f" {PROVIDER_STORM} s; the probe payment was recorded"
        + (f" {took:.1f} s after its webhook." if recorded else f" not within {took:.0f} s.")
        + ("" if settled else f" Not settled {AFTER_STORM} s after the storms.")
    )
    if not recorded or took > PROBE_BOUND:
        row.broken.append(f"a payment waited more than {PROBE_BOUND} s while Teamleader was busy")
    if any(not _is_2xx(a) for a in answers):
        row.broken.append(f"webhooks answered {_histogram(Counter(answers))}")
    payments.count(row)


@scenario(
    8,
    f"{DUPLICATES} duplicate webhooks at once",
    "one payment recorded, one registerPayment in Teamleader; every call answered 2xx",
)
def duplicate_webhooks(world, row):
    targets = world.take(1)
    payments = Payments(world, targets, actions.checkouts(world, targets))
    provider_id = payments.provider_ids[0]
    answers = Counter([actions.mark_paid(world, provider_id)])
    again = world.control(
        "POST", f"provider/payments/{provider_id}/webhook", times=DUPLICATES, concurrent=True
    )
    answers.update(delivery["status"] for delivery in again["deliveries"])
    settled = yield from until(payments.settled, 60)
    row.observed = f"{sum(answers.values())} webhook calls answered {_histogram(answers)}."
    row.observed += "" if settled else " Not settled in 60 s."
    if any(not _is_2xx(status) for status in answers):
        row.broken.append("not every call was answered 2xx")
    payments.count(row)


def _is_2xx(status) -> bool:
    return status is not None and 200 <= status < 300


def _histogram(counts: Counter) -> str:
    return ", ".join(f"{n}×{key}" for key, n in sorted(counts.items(), key=lambda kv: str(kv[0])))


def _since(moment: datetime) -> float:
    return (datetime.now(UTC) - moment).total_seconds()
