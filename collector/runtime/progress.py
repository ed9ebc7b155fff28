"""What a running job tells the UI (``Progress``, kept on its ``JobRun``), and the same
told to no one (``QuietProgress``) for work run outside a job."""

from __future__ import annotations

from collector.extensions import db
from collector.runtime.models import JobRun


class Progress:
    """What a running job tells the UI: how far it is and what it counted."""

    def __init__(self, run: JobRun):
        self.run = run

    def total(self, total: int) -> None:
        self.run.progress_total = total
        db.session.commit()

    def advance(self, step: int = 1, **counts: int) -> None:
        self.run.progress_done += step
        merged = dict(self.run.counts or {})
        for name, n in counts.items():
            merged[name] = merged.get(name, 0) + n
        self.run.counts = merged
        db.session.commit()

    def say(self, message: str) -> None:
        self.run.message = message[:500]
        db.session.commit()


class QuietProgress:
    """Progress for work run outside a job (the CLI, a sweep, a test): it is told
    everything ``Progress`` is told and keeps none of it."""

    def total(self, total: int) -> None: ...

    def advance(self, step: int = 1, **counts: int) -> None: ...

    def say(self, message: str) -> None: ...
