"""The mail server the workers send to: a real SMTP server on loopback (aiosmtpd) in the
suite's own process, that keeps who got which subject and can be made slow, so a worker
can be killed while a message is on its way."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


@dataclass
class SmtpSink:
    """What arrived, as (recipient, subject) pairs in order; ``delay`` holds each DATA."""

    host: str
    port: int
    delay: float = 0.0
    received: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    controller: Controller | None = None

    # aiosmtpd's hook, run on the server's own thread once per message.
    async def handle_DATA(self, server, session, envelope) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        subject = _subject(envelope.content)
        with self.lock:
            for recipient in envelope.rcpt_tos:
                self.received.append((recipient, subject))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self.controller = Controller(self, hostname=self.host, port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def deliveries(self) -> Counter:
        """How many times each (recipient, subject) arrived."""
        with self.lock:
            return Counter(self.received)


def _subject(content: bytes) -> str:
    return str(message_from_bytes(content, policy=policy.default)["Subject"] or "")
