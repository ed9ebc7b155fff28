"""Webhook calls: ``POST <webhookUrl>`` with the form body ``id=tr_…``, as Mollie does.

Mollie's classic webhooks carry only the id, unsigned: the receiver must fetch the payment
to learn what happened. Each call has a timeout and its outcome (status or error) goes to
the delivery log; a receiver that fails never breaks what triggered the call.
"""

from __future__ import annotations

import contextlib
import threading
import time

import requests

from .emulator import Emulator, now
from .resources import stamp

USER_AGENT = "collector-sandbox-provider/1.0"
MAX_TIMES = 200


def send(em: Emulator, payment: dict) -> dict | None:
    """Call the payment's webhook once; return the delivery record (None: no webhook URL)."""
    url = payment["webhook_url"]
    if not url:
        return None
    started = time.monotonic()
    status, error = None, None
    try:
        response = requests.post(
            url,
            data={"id": payment["id"]},
            timeout=em.settings["WEBHOOK_TIMEOUT"],
            headers={"User-Agent": USER_AGENT},
        )
        status = response.status_code
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"
    record = {
        "payment_id": payment["id"],
        "url": url,
        "status": status,
        "error": error,
        "delivered_at": stamp(now()),
        "duration_ms": round((time.monotonic() - started) * 1000),
    }
    with em.store.lock:
        record["id"] = len(em.store.deliveries) + 1
        em.store.deliveries.append(record)
    return dict(record)


def send_many(em: Emulator, payment: dict, times: int, concurrent: bool) -> list[dict]:
    """Call the webhook ``times`` times: one after another, or from as many threads at once."""
    if not concurrent:
        return [d for d in (send(em, payment) for _ in range(times)) if d]
    results: list[dict | None] = [None] * times
    # The barrier lines the threads up so the calls really overlap at the receiver.
    start = threading.Barrier(times)

    def deliver(index: int) -> None:
        # A slow thread start breaks the barrier; the delivery must still happen.
        with contextlib.suppress(threading.BrokenBarrierError):
            start.wait(timeout=10)
        results[index] = send(em, payment)

    threads = [threading.Thread(target=deliver, args=(i,), daemon=True) for i in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=3 * em.settings["WEBHOOK_TIMEOUT"] + 10)
    return [d for d in results if d]
