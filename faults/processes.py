"""The real processes the suite runs, each in a session of its own so that it can be
killed whole — an rq worker together with the work horse it forked (rq puts the horse in
a process group of its own, but not in a session of its own), gunicorn with its workers.

A ``Service`` is one command line with its log file. ``Supervisor`` restarts the ones
that should always run (workers, cron, web) a second after they exit, as systemd's
``Restart=always`` would; the suite kills on purpose with ``kill``, which restarts at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESTART_DELAY = 1.0


def session_members(sid: int) -> list[int]:
    """Every live process whose session id is ``sid`` (read from /proc)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name (field 2) may hold spaces: split after its closing parenthesis.
        fields = stat.rpartition(")")[2].split()
        if len(fields) > 3 and int(fields[3]) == sid:
            members.append(int(entry.name))
    return members


def kill_session(sid: int, sig: int = signal.SIGKILL) -> None:
    """Send ``sig`` to every process of the session ``sid`` (the leader first)."""
    for pid in sorted(session_members(sid), key=lambda p: p != sid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


@dataclass
class Service:
    """One long-running process of the suite: how to start it, where it logs."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    ready: Callable[[], bool] | None = None
    keep_alive: bool = True
    proc: subprocess.Popen | None = None
    restarts: int = 0
    # For a worker.py: the names its rq workers registered under (the general worker and
    # its payment lane).
    rq_names: set[str] = field(default_factory=set)
    lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 30) -> None:
        """Start the process and wait until it is ready (or fail with its log's tail)."""
        with self.lock, self.log.open("ab") as out:
            out.write(f"\n=== {self.name} started at {time.strftime('%X')}\n".encode())
            out.flush()
            self.proc = subprocess.Popen(  # noqa: S603  (our own interpreter and tools)
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.ready is not None and not self.ready():
            if not self.alive():
                raise RuntimeError(f"{self.name} exited at start:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} was not ready in {timeout:g} s:\n{self.tail()}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL the whole session, as when its machine goes away; wait for the leader."""
        with self.lock:
            if self.proc is None:
                return
            kill_session(self.proc.pid)
            self.proc.wait()

    def stop(self, grace: float = 5) -> None:
        """SIGTERM the leader (rq and gunicorn shut down warm), then SIGKILL whatever is
        left of the session after ``grace`` seconds."""
        with self.lock:
            if self.proc is None:
                return
            sid = self.proc.pid
            with contextlib.suppress(ProcessLookupError):
                os.kill(sid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=grace)
            kill_session(sid)  # horses and gunicorn workers the leader left behind
            self.proc.wait()

    def restart(self, timeout: float = 30) -> None:
        self.restarts += 1
        self.start(timeout)

    def tail(self, chars: int = 2500) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"


class Supervisor:
    """Restarts the services that should always run, a second after they exit."""

    def __init__(self, services: list[Service]):
        self.services = services
        self.stopping = threading.Event()
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self._loop, name="supervisor", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join(timeout=10)

    def _loop(self) -> None:
        while not self.stopping.wait(RESTART_DELAY):
            for service in self.services:
                if service.keep_alive and service.proc is not None and not service.alive():
                    self._revive(service)

    def _revive(self, service: Service) -> None:
        with service.lock:
            if service.alive() or self.stopping.is_set():
                return
            try:
                service.restart(timeout=20)
            except RuntimeError as exc:
                # It will be tried again on the next round (Redis may still be down).
                self.errors.append(f"{service.name}: {str(exc)[:200]}")
