"""What the Teamleader jobs brought in, told to the domains that follow up on it (mail
sends what became owed, Exact Online books what became bookable) without Teamleader
knowing them (README › Architecture).

Sent by ``teamleader.jobs`` once their work is committed; receivers are connected when
the app is made (each domain's ``jobs.connect``). A follow-up only brings work forward:
the schedule finds the same work in the rows (owed work is a query, not a promise).
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# An import ended, finished or failed. Sender: the DocumentImport.
import_ended = _signals.signal("import-ended")

# A webhook delivery or a sweep was handled: documents may have come in or changed.
# Sender: the TeamleaderConnection.
changes_read = _signals.signal("changes-read")

# PDFs were fetched. Sender: the actor; ``invoice_ids``: the documents whose PDF arrived.
# A receiver that sends emails (the invitations that waited for those PDFs) returns how
# many it sent, for the job's summary.
pdfs_fetched = _signals.signal("pdfs-fetched")
