"""The Exact Online tables: the connection, each document's booking, the accounts
customers were booked on, and the history of forwarding runs."""

from collector.exact.models.exact_account import ExactAccount
from collector.exact.models.exact_booking import BookingStatus, ExactBooking
from collector.exact.models.exact_connection import EntryNumbering, ExactConnection
from collector.exact.models.exact_sync_run import ExactSyncRun, SyncTrigger

__all__ = [
    "BookingStatus",
    "EntryNumbering",
    "ExactAccount",
    "ExactBooking",
    "ExactConnection",
    "ExactSyncRun",
    "SyncTrigger",
]
