"""The Exact Online tables: the connection to one administration and how documents are
booked there, each document's sales entry, the Exact account of each customer, and the
forwarding runs."""

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
