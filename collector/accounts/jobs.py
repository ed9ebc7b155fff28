"""The accounts domain runs no jobs: users, API keys and the company's settings change
only when a person changes them. (The notices other domains' jobs send to people go
through ``accounts.alerts``.)"""

from __future__ import annotations

from collector.runtime.queue import Periodic

PERIODIC: tuple[Periodic, ...] = ()
