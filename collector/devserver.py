"""The demo server behind ``make run``: the web app plus whatever runs jobs.

With Redis: an rq worker (``worker.py``) and ``rq cron`` as child processes.
Without: jobs in a thread pool and the schedule in a thread, in this process.
"""

import signal
import subprocess
import sys
from pathlib import Path

from werkzeug.serving import run_simple

from collector.runtime.inline import InlineScheduler
from collector.runtime.jobs import recover_now
from collector.schedule import SCHEDULE

ROOT = Path(__file__).resolve().parent.parent


def run(app, host: str, port: int, sandbox_port: int | None = None) -> None:
    """Serve ``app`` until interrupted, with its job runners (and the sandbox) alongside."""
    # SIGTERM must also run the ``finally`` below, or the children outlive us.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    children: list[subprocess.Popen] = []
    if sandbox_port:
        sandbox = [sys.executable, "-m", "sandbox", "--host", host, "--port", str(sandbox_port)]
        # The demo's webhook address is this machine, which real Mollie would refuse.
        sandbox.append("--allow-local-webhooks")
        children.append(subprocess.Popen(sandbox, cwd=ROOT))  # noqa: S603
        print(f" * Sandbox emulators on http://{host}:{sandbox_port}/")
    if app.extensions["jobs"].backend.name == "rq":
        bin_dir = Path(sys.executable).parent
        url = app.config["REDIS_URL"]
        # Fixed argv, no shell: nothing here comes from a user.
        worker = [sys.executable, str(ROOT / "worker.py")]
        cron = [str(bin_dir / "rq"), "cron", "collector.cron", "--url", url]
        children.append(subprocess.Popen(worker))  # noqa: S603
        children.append(subprocess.Popen(cron))  # noqa: S603
        print(f" * Jobs: rq worker and rq cron on {url}")
    else:
        # What the previous process left unfinished runs again (recovery, at once).
        with app.app_context():
            recover_now()
        InlineScheduler(app, SCHEDULE).start()
        print(" * Jobs: Redis does not answer; jobs and the schedule run in this process")
    try:
        # Not app.run(): Flask refuses it inside a ``flask`` command.
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        for child in children:
            child.terminate()
        for child in children:
            child.wait(timeout=10)
