"""Jobs for the recovery tests: importable by a real rq worker process (``worker.py``)."""

import os
import time

from collector.core import ratelimit
from collector.core.columns import utcnow
from collector.core.errors import TryLater
from collector.runtime.queue import Progress, tracked
from collector.teamleader import imports
from collector.teamleader.models import ImportSource


@tracked
def linger(seconds: int, *, progress: Progress) -> str:
    """Say it started, then take its time (long enough to be killed)."""
    progress.say(f"lingering in process {os.getpid()}")  # rq's work horse, its own session
    time.sleep(seconds)
    return "done lingering"


@tracked
def hit_the_limit(seconds: int, *, progress: Progress) -> str:
    """Meet a rate limit spent for ``seconds`` more."""
    raise ratelimit.RateLimited("the test's rate limit", utcnow().timestamp() + seconds)


@tracked
def make_import(*, progress: Progress) -> str:
    """Record an automatic import, as a webhook delivery's job does."""
    imp = imports.create_import(ImportSource.WEBHOOK, subjects=[{"type": "invoice", "id": "x"}])
    return f"import {imp.id}"


@tracked
def upstream_away(seconds: int, *, progress: Progress) -> str:
    """Find the upstream away for ``seconds`` more."""
    raise TryLater("the test's upstream", utcnow().timestamp() + seconds)
