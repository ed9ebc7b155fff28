"""The demo server behind ``make run``: the web app plus whatever runs jobs.

With Redis: an rq worker (``worker.py``) and the clock (``python -m collector.cron``) as
child processes. Without: jobs in a thread pool and the schedule in a thread, in this
process.

The terminal is for the person trying the demo: it shows warnings and, last, the address
and the login. The request lines, the worker's and the clock's chatter and the sandbox's
go to files under ``instance/logs/`` (named in that last block). The children run in
their own process group, so Ctrl-C stops this process only, and this process stops them
once, with SIGTERM (a second signal mid-stop made rq cron print a traceback).
"""

import contextlib
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

from werkzeug.serving import make_server

from collector.runtime.inline import InlineScheduler
from collector.runtime.jobs import recover_now
from collector.schedule import SCHEDULE

ROOT = Path(__file__).resolve().parent.parent
STOP_WAIT = 15  # seconds a child may take to stop before it is killed


def run(app, host: str, port: int, sandbox_port: int | None = None) -> None:
    """Serve ``app`` until interrupted, with its job runners (and the sandbox) alongside."""
    # SIGTERM must also run the ``finally`` below, or the children outlive us.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    logs = Path(app.instance_path) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    _quiet_terminal(logs / "web.log")
    children: list[subprocess.Popen] = []
    lines = []
    try:
        if sandbox_port:
            sandbox = [sys.executable, "-m", "sandbox", "--host", host]
            sandbox += ["--port", str(sandbox_port)]
            # The demo's webhook address is this machine, which real Mollie would refuse.
            sandbox.append("--allow-local-webhooks")
            children.append(_start(sandbox, logs / "sandbox.log"))
            lines.append(f"Sandbox emulators: http://{host}:{sandbox_port}/")
        if app.extensions["jobs"].backend.name == "rq":
            # Fixed argv, no shell: nothing here comes from a user.
            children.append(_start([sys.executable, str(ROOT / "worker.py")], logs / "worker.log"))
            children.append(_start([sys.executable, "-m", "collector.cron"], logs / "clock.log"))
            lines.append(f"Jobs: an rq worker and the clock on {app.config['REDIS_URL']}")
        else:
            # What the previous process left unfinished runs again (recovery, at once).
            with app.app_context():
                recover_now()
            InlineScheduler(app, SCHEDULE).start()
            lines.append("Jobs: Redis does not answer; jobs and the schedule run in this process")
        # Not app.run(): Flask refuses it inside a ``flask`` command. Bound before the
        # banner, so the address it prints already answers.
        server = make_server(host, port, app, threaded=True)
        lines.append(f"Logs: {logs}/")
        login = Path(app.instance_path) / "demo-login.txt"
        if login.exists():
            lines.append(f"Demo login: {login.read_text().strip()}")
        lines.append(f"Open http://{host}:{port}/  (Ctrl-C stops everything)")
        print("\n".join(f" * {line}" for line in lines), flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        _stop(children)


def _start(argv: list[str], log: Path) -> subprocess.Popen:
    """A child in its own process group (Ctrl-C is ours to pass on), writing to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603 (fixed argv)
            argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _stop(children: list[subprocess.Popen]) -> None:
    """SIGTERM to each child's group (the worker's payment lane is in it), once."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C waits for the stop
    for child in children:
        _signal_group(child, signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=STOP_WAIT)
        except subprocess.TimeoutExpired:
            _signal_group(child, signal.SIGKILL)
            child.wait()


def _signal_group(child: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, sig)


def _quiet_terminal(web_log: Path) -> None:
    """The request lines and the app's INFO lines to ``web_log``; warnings stay on the
    terminal too."""
    to_file = logging.FileHandler(web_log)
    to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for handler in root.handlers:
        handler.setLevel(logging.WARNING)
    root.addHandler(to_file)
    # werkzeug adds its own terminal handler to its logger when it has none: give it one.
    werkzeug = logging.getLogger("werkzeug")
    werkzeug.addHandler(to_file)
    werkzeug.propagate = False
    werkzeug.setLevel(logging.INFO)
