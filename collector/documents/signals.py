"""What happens to documents, told to the domains that must act on it without the
documents domain knowing them (README › Architecture: nothing here imports them).

A signal is sent inside the caller's transaction and its receivers write their own rows
in that same transaction, so the outbox guarantee holds: Teamleader is owed a sync in the
commit that records a payment, invitations are owed in the commit that imports a document.

Receivers are connected when the app is made (``collector.create_app``). Sending a signal
nobody receives would lose that work silently, so ``send`` refuses it.
"""

from __future__ import annotations

from blinker import Namespace, Signal

_signals = Namespace()

# Our payments of a document changed (recorded, reversed, cancelled, restored).
# Sender: the Invoice; ``entry``: the Payment row that changed.
payments_changed = _signals.signal("payments-changed")

# Documents were imported for the first time. Sender: the actor (who or what imported);
# ``invoice_ids``: the new documents; ``today``, ``hold_after_days`` and ``mail_old``: the
# import's day, the age past which its mail is held, and whether its starter opted in.
documents_imported = _signals.signal("documents-imported")

# A payment profile is about to be deleted. Sender: the Profile. A receiver that still
# needs it refuses by raising ``Conflict``; nothing is deleted then.
profile_deleting = _signals.signal("profile-deleting")


def send(signal: Signal, sender, **details) -> None:
    """Send ``signal``; refuse when no receiver is connected (the app was not made)."""
    if not signal.receivers:
        raise RuntimeError(f"nothing receives {signal.name!r}: build the app with create_app")
    signal.send(sender, **details)
