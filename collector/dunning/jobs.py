"""The dunning domain's rq jobs: none of its own yet. A hold ends by its date without a
job (the policy compares the date), and the reminder run (``mail.jobs``) asks the policy
itself; this module keeps the domain's shape (README › Architecture)."""

from __future__ import annotations

PERIODIC: tuple = ()
