"""Faults in the middle of a job: a worker SIGKILLed (with the work horse it forked) while it
imports, pushes payments to Teamleader, handles a provider webhook or sends invitations;
PostgreSQL terminating the app's connections while an import runs.

Each scenario catches its job mid-way by slowing one upstream call with the sandbox's
latency faults (or the SMTP server's delay) and killing the worker that runs it; then the
worker is started again, as a supervisor would, and the scenario waits for the app.
"""

from __future__ import annotations

import re
import time

from faults import actions, probes
from faults.actions import Payments
from faults.runner import scenario, until
from faults.stack import DATABASE

# Seconds the app is given after the fault: rq notices a dead worker's job about 70 s after
# its last heartbeat, recovery runs every minute, the outbox's lease is 120 s and its push
# every minute.
SETTLE = 200
IMPORT_END = 150
MAIL_END = 150
RESUMED_END = 60
CATCH = 60  # seconds to catch the job mid-way before the scenario gives up
PUSHERS = ("handle_provider_webhook", "push_teamleader")  # the jobs that write to Teamleader
MID_IMPORT = 100  # documents committed before the fault
IMPORT_LATENCY = 30  # ms per invoices.info while the import is being caught


# -- 1 and 6: imports -------------------------------------------------------------------------


@scenario(
    1,
    "worker killed mid-import",
    "every document of the range imported exactly once (or reported as a problem); every "
    "one owed an invitation has its invitation row; the import and its JobRun end "
    "(finished, or interrupted and resumed as a person would); nothing left running",
)
def kill_mid_import(world, row):
    yield from _import_under_fault(world, row, _kill_import_worker)


@scenario(
    6,
    "PostgreSQL backends terminated mid-import",
    "as 1: every document imported exactly once, invitations owed, the import and its "
    "JobRun end (finished, or failed/interrupted and resumed as a person would)",
)
def terminate_mid_import(world, row):
    yield from _import_under_fault(world, row, _terminate_backends)


def _kill_import_worker(world, run) -> str:
    busy = [s for s, job_id in actions.busy_with(world, "run_import") if job_id == run[1]]
    if not busy:
        return ""
    actions.kill_and_restart(busy[0])
    return f"{busy[0].name} SIGKILLed"


def _terminate_backends(world, run) -> str:
    terminated = probes.terminate_backends(world.stack.database_url, DATABASE)
    time.sleep(0.5)  # and again, for connections the first round's errors opened anew
    terminated += probes.terminate_backends(world.stack.database_url, DATABASE)
    return f"{terminated} backends terminated" if terminated else ""


def _import_under_fault(world, row, fault):
    db = world.stack.database_url
    date_from, date_to = world.take_range()
    browser = world.browser()
    # Each invoices.info takes 30 ms: the import runs for seconds, and is caught mid-way.
    world.control(
        "POST", "teamleader/faults", kind="latency", endpoint="invoices.info", ms=IMPORT_LATENCY
    )
    try:
        import_id = _start_import(browser, date_from, date_to)
        run = _mid_import(db, import_id)
        inflicted = fault(world, run) if run is not None else ""
    finally:
        world.control("DELETE", "teamleader/faults")
    if run is None:
        row.broken.append(
            f"import #{import_id} was not caught mid-way: {_import_outcome(db, import_id)}"
        )
        return
    done = run[6].get("imported", 0)
    if not inflicted:
        row.broken.append("the fault could not be inflicted (the import had ended)")
        return
    faulted_at = time.monotonic()
    row.observed = f"Import #{import_id}: {inflicted} with {done} of {run[5]} documents in."
    yield from until(lambda: _over(db, import_id), IMPORT_END)
    status = probes.value(db, "SELECT status FROM document_import WHERE id = %s", (import_id,))
    row.observed += f" It became {status} after {time.monotonic() - faulted_at:.0f} s"
    row.observed += f" (its JobRun: {_run_outcome(db, run[0])})."
    if status in ("interrupted", "failed"):
        resumed = _resume(browser, import_id, date_from, date_to)
        row.observed += f" Resumed as a person would: {resumed}."
        yield from until(lambda: _range_over(db, date_from, date_to), RESUMED_END)
    _judge_import(world, row, date_from, date_to)


def _start_import(browser, date_from, date_to) -> int:
    """The import dialog, as a person fills it in: the range first shows what it would
    mail, then *Start the import*."""
    form = {"date_from": date_from.isoformat(), "date_to": date_to.isoformat()}
    counted = browser.post("/imports/", {**form, "step": "preview"}, "/imports/")
    if counted.status_code != 200 or 'value="start"' not in counted.text:
        raise RuntimeError(f"the import dialog's count answered HTTP {counted.status_code}")
    answer = browser.post("/imports/", {**form, "step": "start"}, "/imports/")
    match = re.search(r"/imports/(\d+)", answer.headers.get("Location", ""))
    if answer.status_code != 302 or match is None:
        raise RuntimeError(f"the import dialog answered HTTP {answer.status_code}")
    return int(match.group(1))


def _mid_import(db, import_id):
    """Block until the import's JobRun has MID_IMPORT documents in and is still going."""
    deadline = time.monotonic() + CATCH
    while time.monotonic() < deadline:
        run_id = probes.import_run_id(db, import_id)
        run = probes.job_run(db, run_id=run_id) if run_id else None
        if run and run[3] == "started" and (run[6] or {}).get("imported", 0) >= MID_IMPORT:
            return run if run[4] < (run[5] or 0) else None
        if _over(db, import_id):
            return None
        time.sleep(0.05)
    return None


def _import_outcome(db, import_id) -> str:
    status, error = probes.rows(
        db, "SELECT status, error FROM document_import WHERE id = %s", (import_id,)
    )[0]
    return f"it is {status}" + (f": {error[:120]}" if error else "")


def _over(db, import_id) -> bool:
    status = probes.value(db, "SELECT status FROM document_import WHERE id = %s", (import_id,))
    return status not in ("queued", "running")


def _range_over(db, date_from, date_to) -> bool:
    """Every import of the range, and the JobRun of each, has ended."""
    for _id, status, run_id in probes.imports_of_range(db, date_from, date_to):
        run = probes.job_run(db, run_id=run_id) if run_id else None
        if status in ("queued", "running") or (run and run[3] in probes.NOT_OVER):
            return False
    return True


def _run_outcome(db, run_id) -> str:
    run = probes.job_run(db, run_id=run_id)
    return run[3] + (f", {run[7][:80]}" if run[7] else "")


def _resume(browser, import_id: int, date_from, date_to) -> str:
    """The import's own Resume button if its page has one; else the same range again."""
    page = browser.get(f"/imports/{import_id}").text
    action = f"/imports/{import_id}/resume"
    if action in page:
        answer = browser.post(action, {}, f"/imports/{import_id}")
        return f"its Resume button (HTTP {answer.status_code})"
    new_id = _start_import(browser, date_from, date_to)
    return f"no Resume button, so the same range again (import #{new_id})"


def _judge_import(world, row, date_from, date_to) -> None:
    db = world.stack.database_url
    imports = probes.imports_of_range(db, date_from, date_to)
    problems = set(probes.import_problems(db, [i[0] for i in imports]))
    expected = world.expected[(date_from, date_to)] - problems
    found = probes.documents_by_teamleader_id(db, list(expected))
    missing_docs = sum(not found[t] for t in expected)
    missing_mail = probes.invitations_missing(db, date_from, date_to)
    row.lost = missing_docs + missing_mail
    row.duplicated = sum(n - 1 for n in found.values() if n > 1)
    stuck_imports = [i for i in imports if i[1] in ("queued", "running")]
    runs = [probes.job_run(db, run_id=i[2]) for i in imports if i[2]]
    stuck_runs = [r for r in runs if r and r[3] in probes.NOT_OVER]
    row.stuck = len(stuck_imports) + len(stuck_runs)
    row.observed += (
        f" {len(expected) - missing_docs}/{len(expected)} documents imported"
        f" ({len(problems)} reported as problems), {missing_mail} owed invitations without"
        f" a row; imports: {', '.join(f'#{i[0]} {i[1]}' for i in imports)};"
        f" {len(stuck_runs)} JobRun(s) still queued/started."
    )


# -- 2: the push to Teamleader ------------------------------------------------------------------


@scenario(
    2,
    "worker killed mid-status-push",
    "each invoice paid here registered in Teamleader exactly once (none missing, none "
    "twice); its sync row synced; the killed push's JobRun ends",
)
def kill_mid_push(world, row):
    targets = world.take(6)
    payments = Payments(world, targets, actions.checkouts(world, targets))
    # Each registerPayment takes 2 s, so the push is caught with some invoices done.
    world.control(
        "POST", "teamleader/faults", kind="latency", endpoint="invoices.registerPayment", ms=2000
    )
    try:
        answers = [actions.mark_paid(world, p) for p in payments.provider_ids]
        # The webhook's job pushes what it recorded itself; push_teamleader is the sweep.
        caught = actions.wait_busy(
            world, PUSHERS, CATCH, also=lambda: any(payments.registered().values())
        )
        if caught is None:
            row.broken.append("no job was caught mid-push")
            return
        before = sum(payments.registered().values())
        actions.kill_and_restart(caught[0])
    finally:
        world.control("DELETE", "teamleader/faults")
    row.observed = f"{caught[0].name} SIGKILLed mid-push after {before} of 6."
    _expect_2xx(row, answers, "provider webhook")
    ids = [t.id for t in targets]
    ok = yield from until(
        lambda: (
            payments.settled()
            and not probes.syncs_not_synced(world.stack.database_url, ids)
            and _run_over(world, caught[1])
        ),
        SETTLE,
    )
    payments.count(row)
    unsynced = probes.syncs_not_synced(world.stack.database_url, [t.id for t in targets])
    row.stuck = unsynced + _killed_run_stuck(world, caught[1], row)
    row.observed += f" {unsynced} sync row(s) not synced." + ("" if ok else " Not settled.")


# -- 3: the provider's webhook ------------------------------------------------------------------


@scenario(
    3,
    "worker killed mid-webhook",
    "every payment recorded here and registered once in Teamleader; webhooks answered "
    "2xx; the killed run ends and no stored webhook call is left unhandled",
)
def kill_mid_webhook(world, row):
    targets = world.take(4)
    payments = Payments(world, targets, actions.checkouts(world, targets))
    # The job's fetch of the payment takes 4 s: long enough to be caught inside it.
    world.control("POST", "provider/faults", kind="latency", ms=4000, count=len(targets))
    try:
        answers = [actions.mark_paid(world, p) for p in payments.provider_ids]
        caught = actions.wait_busy(world, "handle_provider_webhook", CATCH)
        if caught is None:
            row.broken.append("no handle_provider_webhook was caught mid-run")
            return
        actions.kill_and_restart(caught[0])
    finally:
        world.control("DELETE", "provider/faults")
    row.observed = f"{caught[0].name} SIGKILLed inside handle_provider_webhook."
    _expect_2xx(row, answers, "provider webhook")
    ok = yield from until(
        lambda: (
            payments.settled()
            and not probes.notifications_unhandled(world.stack.database_url, payments.provider_ids)
            and _run_over(world, caught[1])
        ),
        SETTLE,
    )
    payments.count(row)
    unhandled = probes.notifications_unhandled(world.stack.database_url, payments.provider_ids)
    row.stuck = _killed_run_stuck(world, caught[1], row) + (unhandled or 0)
    if unhandled is not None:
        row.observed += f" {unhandled} stored webhook call(s) unhandled."
    row.observed += "" if ok else f" Not settled {SETTLE} s after the kill."


# -- 4: mail ------------------------------------------------------------------------------------


@scenario(
    4,
    "worker killed mid-mail",
    "no invitation delivered twice; rows left 'uncertain' allowed (counted apart, for a "
    "person); none left waiting/sending/failed; every invitation asked for delivered or "
    "uncertain",
)
def kill_mid_mail(world, row):
    db, sink = world.stack.database_url, world.stack.smtp
    targets = world.take_invitable(20)
    ids = [t.id for t in targets]
    numbers = probes.invoice_numbers(db, ids)
    browser = world.browser()
    sink.delay = 0.5  # each message takes half a second to be accepted
    try:
        fields = [("action", "send_invitations"), *(("ids", str(i)) for i in ids)]
        answer = browser.post("/invoices/actions", fields, "/invoices/")
        if answer.status_code != 302:
            raise RuntimeError(f"send invitations answered HTTP {answer.status_code}")
        caught = actions.wait_busy(
            world, "send_invitations", CATCH, also=lambda: _delivered(sink, numbers) >= 4
        )
        if caught is None:
            row.broken.append("no send_invitations was caught mid-run")
            return
        actions.kill_and_restart(caught[0])
    finally:
        sink.delay = 0.0
    row.observed = (
        f"{caught[0].name} SIGKILLed in send_invitations after"
        f" {_delivered(sink, numbers)} of {len(ids)} delivered."
    )
    settled = yield from until(
        lambda: not _open_mail(db, ids) and _run_over(world, caught[1]), MAIL_END
    )
    statuses = probes.mail_statuses(db, ids)
    arrived = _arrivals(sink, numbers)
    row.duplicated = sum(n - 1 for n in arrived.values() if n > 1)
    row.recount = lambda: sum(n - 1 for n in _arrivals(sink, numbers).values() if n > 1)
    asked = probes.invoices_with_invitation(db, ids)
    sent_not_arrived = probes.sent_invitations(db, ids) - {i for i, n in arrived.items() if n}
    row.lost = (len(ids) - len(asked)) + len(sent_not_arrived)
    row.stuck = _open_mail(db, ids) + _killed_run_stuck(world, caught[1], row)
    row.observed += (
        f" Rows: {', '.join(f'{n} {s}' for s, n in sorted(statuses.items()))}"
        f" ({statuses.get('uncertain', 0)} uncertain, for a person)."
    )
    row.observed += "" if settled else f" Still open {MAIL_END} s after the kill."


def _arrivals(sink, numbers: dict) -> dict[int, int]:
    """Invoice id → how many invitations reached the SMTP server for it (its number in
    the subject, to its customer)."""
    deliveries = sink.deliveries()
    return {
        invoice_id: sum(
            n
            for (recipient, subject), n in deliveries.items()
            if recipient == email and f" {number} " in f" {subject} "
        )
        for invoice_id, (number, email) in numbers.items()
    }


def _delivered(sink, numbers: dict) -> int:
    return sum(1 for n in _arrivals(sink, numbers).values() if n)


def _open_mail(db, ids) -> int:
    statuses = probes.mail_statuses(db, ids)
    return sum(statuses.get(s, 0) for s in probes.OPEN_MAIL)


# -- shared -----------------------------------------------------------------------------------


def _expect_2xx(row, answers: list, what: str) -> None:
    bad = [a for a in answers if a is None or not 200 <= a < 300]
    if bad:
        row.broken.append(f"{len(bad)} {what}(s) answered {sorted(set(map(str, bad)))}")


def _run_over(world, job_id: str) -> bool:
    run = probes.job_run(world.stack.database_url, job_id=job_id)
    return run is None or run[3] not in probes.NOT_OVER


def _killed_run_stuck(world, job_id: str, row) -> int:
    """1 if the killed job's JobRun is still queued or started (nothing ended it)."""
    run = probes.job_run(world.stack.database_url, job_id=job_id)
    if run is None:
        return 0
    row.observed += f" The killed run is {run[3]}" + (f" ({run[7][:80]})." if run[7] else ".")
    return int(run[3] in probes.NOT_OVER)
