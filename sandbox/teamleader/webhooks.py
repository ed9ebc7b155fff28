"""Webhook registrations and deliveries.

Reference §12: ``webhooks.register {url, types[]}`` / ``webhooks.list`` (ordered by URL) /
``webhooks.unregister {url, types[]}``. The delivery body is **not documented** by
Teamleader; we send the third-party shape ``{type, subject: {type, id}, account: {type,
id}}`` (fixture ``webhook-payload.UNVERIFIED-third-party.json``), with no signature, as
none is documented. Deliveries run on one background thread, in the order the events
happened, each POST with a timeout, so an RPC answer never waits for a receiver.
"""

from __future__ import annotations

import queue
import threading
import time

import requests

from .clock import Clock, iso_datetime
from .state import Store

# The types the reference lists (§12). The real enum is longer (deals, projects, tickets,
# ...); a type outside this list is refused with 400, like an unknown enum value.
EVENT_TYPES = (
    "account.deactivated",
    "account.deleted",
    "user.deactivated",
    "company.added",
    "company.updated",
    "company.deleted",
    "contact.added",
    "contact.updated",
    "contact.deleted",
    "contact.linkedToCompany",
    "contact.unlinkedFromCompany",
    "contact.updatedLinkToCompany",
    "creditNote.booked",
    "creditNote.updated",
    "creditNote.deleted",
    "creditNote.sent",
    "creditNote.peppolSubmissionSucceeded",
    "creditNote.peppolSubmissionFailed",
    "invoice.booked",
    "invoice.drafted",
    "invoice.updated",
    "invoice.deleted",
    "invoice.sent",
    "invoice.paymentRegistered",
    "invoice.paymentRemoved",
    "invoice.peppolSubmissionSucceeded",
    "invoice.peppolSubmissionFailed",
    "subscription.added",
    "subscription.updated",
    "subscription.deactivated",
    "subscription.deleted",
)
USER_AGENT = "collector-sandbox-teamleader/1.0"


class Dispatcher:
    """Queue events and POST them to every URL registered for their type."""

    def __init__(self, store: Store, clock: Clock, timeout: float) -> None:
        self.store = store
        self.clock = clock
        self.timeout = timeout
        self._queue: queue.Queue = queue.Queue()
        self._idle = threading.Condition()
        self._pending = 0
        self._worker: threading.Thread | None = None
        self._session = requests.Session()

    def fire(self, event_type: str, subject_type: str, subject_id: str) -> int:
        """Queue one event; return how many URLs it will be sent to."""
        with self.store.lock:
            account = dict(self.store.data.account)
            urls = sorted(
                {
                    url
                    for hooks in self.store.webhooks.values()
                    for url, types in hooks.items()
                    if event_type in types
                }
            )
        if not urls:
            return 0
        payload = {
            "type": event_type,
            "subject": {"type": subject_type, "id": subject_id},
            "account": account,
        }
        with self._idle:
            self._pending += 1
        self._start()
        self._queue.put((urls, payload))
        return len(urls)

    def wait_idle(self, timeout: float) -> bool:
        """Block until every queued event was delivered (or ``timeout`` passed)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _start(self) -> None:
        with self._idle:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(
                    target=self._run, name="teamleader-webhooks", daemon=True
                )
                self._worker.start()

    def _run(self) -> None:
        while True:
            urls, payload = self._queue.get()
            try:
                for url in urls:
                    self._deliver(url, payload)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _deliver(self, url: str, payload: dict) -> None:
        started = time.monotonic()
        status, error = None, None
        try:
            response = self._session.post(
                url, json=payload, timeout=self.timeout, headers={"User-Agent": USER_AGENT}
            )
            status = response.status_code
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        record = {
            "url": url,
            "type": payload["type"],
            "payload": payload,
            "status": status,
            "error": error,
            "delivered_at": iso_datetime(self.clock.now()),
            "duration_ms": round((time.monotonic() - started) * 1000),
        }
        with self.store.lock:
            record["id"] = len(self.store.deliveries) + 1
            self.store.deliveries.append(record)
