"""What a create operation needs: the division, the time, the user and URL roots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .state import Division


@dataclass
class Context:
    """One write request, resolved."""

    division: Division
    now: datetime
    user: dict
    site_root: str  # e.g. "http://127.0.0.1:5001/exact/be/" (the country host's root)

    def audit(self) -> dict:
        """The audit properties of a record created now by the user."""
        return {
            "Created": self.now,
            "Modified": self.now,
            "Creator": self.user["UserID"],
            "Modifier": self.user["UserID"],
            "CreatorFullName": self.user["FullName"],
            "ModifierFullName": self.user["FullName"],
            "Division": self.division.code,
        }

    def find(self, path: str, field: str, value: object) -> dict | None:
        """The first record of a table whose ``field`` equals ``value``."""
        return next((r for r in self.division.table(path).values() if r.get(field) == value), None)

    def get(self, path: str, key: object) -> dict | None:
        """A record by key."""
        return self.division.table(path).get(key)
