"""The Teamleader models: the connection and its settings, imports, webhook
deliveries as they arrived, and the outbox of payment syncs."""

from collector.teamleader.models.document_import import DocumentImport, ImportSource, ImportStatus
from collector.teamleader.models.teamleader_connection import ConnectionStatus, TeamleaderConnection
from collector.teamleader.models.teamleader_sync import NEEDS_A_PERSON, SyncStatus, TeamleaderSync
from collector.teamleader.models.webhook_delivery import DeliveryStatus, WebhookDelivery

__all__ = [
    "ConnectionStatus",
    "DeliveryStatus",
    "DocumentImport",
    "ImportSource",
    "ImportStatus",
    "NEEDS_A_PERSON",
    "SyncStatus",
    "TeamleaderConnection",
    "TeamleaderSync",
    "WebhookDelivery",
]
