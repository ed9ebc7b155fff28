"""The dunning tables: holds that pause chasing and debiting, and notes people keep."""

from collector.dunning.models.holds import Hold, HoldReason
from collector.dunning.models.notes import Note

__all__ = ["Hold", "HoldReason", "Note"]
