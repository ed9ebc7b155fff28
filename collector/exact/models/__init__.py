"""TODO models"""

from collector.exact.models.exact_booking import (
    BookingStatus,
    ExactAccount,
    ExactBooking,
    ExactSyncRun,
    SyncTrigger,
)
from collector.exact.models.exact_connection import EntryNumbering, ExactConnection

__all__ = [
    "BookingStatus",
    "EntryNumbering",
    "ExactAccount",
    "ExactBooking",
    "ExactConnection",
    "ExactSyncRun",
    "SyncTrigger",
]
