"""Documents tell other domains what happened through ``documents.signals``; the app
connects every receiver, and a signal nobody receives is refused, never lost."""

from __future__ import annotations

import pytest
from blinker import Namespace, Signal

from collector.documents import signals


def _names(signal: Signal) -> set[str]:
    return {f"{r.__module__}.{r.__name__}" for r in signal.receivers.values()}


def test_the_app_connects_every_receiver(app):
    assert _names(signals.payments_changed) == {"collector.teamleader.receivers._payments_changed"}
    assert _names(signals.documents_imported) == {"collector.mail.receivers._documents_imported"}
    assert _names(signals.profile_deleting) == {"collector.teamleader.receivers._profile_deleting"}


def test_building_the_app_again_connects_each_receiver_once(app):
    from collector import connect_receivers

    connect_receivers()
    connect_receivers()
    assert len(signals.payments_changed.receivers) == 1
    assert len(signals.documents_imported.receivers) == 1


def test_a_signal_nobody_receives_is_refused():
    lonely = Namespace().signal("lonely")
    with pytest.raises(RuntimeError, match="nothing receives 'lonely'"):
        signals.send(lonely, "sender")


def test_a_receiver_passes_on_what_it_was_told():
    told = []
    signal = Namespace().signal("told")

    def receiver(sender, **details):
        told.append((sender, details))

    signal.connect(receiver)
    signals.send(signal, "import", invoice_ids=[1, 2])
    assert told == [("import", {"invoice_ids": [1, 2]})]
