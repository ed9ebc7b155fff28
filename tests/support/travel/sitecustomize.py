"""Move this Python process's clock by ``COLLECTOR_CLOCK_OFFSET`` seconds, if set.

``make test-moved-clock`` (``tests/support/moved_clock.py``) puts this folder first on
``PYTHONPATH``, so every Python process of the run — pytest, the rq workers and scripts
the tests start — shifts its wall clock by the same offset and keeps ticking, and they
all agree on the moved "now". time-machine moves ``time.time`` and ``datetime.now`` but
not the monotonic clock, so sleeps, timeouts and rate windows measure real durations.
"""

import os

_offset = os.environ.get("COLLECTOR_CLOCK_OFFSET")
if _offset:
    from datetime import UTC, datetime, timedelta

    import time_machine

    time_machine.travel(datetime.now(UTC) + timedelta(seconds=float(_offset)), tick=True).start()
