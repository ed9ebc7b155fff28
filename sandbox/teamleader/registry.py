"""The RPC method table: ``@method("invoices.list")`` registers a handler.

A handler takes a ``Call`` and returns the JSON body (``200``) or ``None`` (``204``,
reference §2: updates and actions answer 204 with an empty body).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import errors
from .emulator import Emulator
from .state import Store


@dataclass
class Call:
    """One authenticated RPC request."""

    emulator: Emulator
    body: dict
    grant: dict
    file_url: Callable[[str], str]

    @property
    def store(self) -> Store:
        """The emulator's store (hold ``store.lock`` while reading records)."""
        return self.emulator.store

    def record(self, collection: dict, field: str = "id") -> dict:
        """The record named by ``body[field]``; a missing one is a 400 (reference §5)."""
        ident = errors.as_string(errors.require(self.body, field), field)
        found = collection.get(ident)
        if found is None:
            raise errors.invalid(field, f"{field} does not refer to an existing resource")
        return found


Handler = Callable[[Call], dict | None]
METHODS: dict[str, Handler] = {}


def method(name: str) -> Callable[[Handler], Handler]:
    """Register ``handler`` as the RPC method ``name``."""

    def register(handler: Handler) -> Handler:
        METHODS[name] = handler
        return handler

    return register


def readable_by_get(name: str) -> bool:
    """GET still works for ``.list``/``.info`` (deprecated, reference §2)."""
    return name.endswith((".list", ".info")) or name == "users.me"
