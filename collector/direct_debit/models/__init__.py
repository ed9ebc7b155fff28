"""TODO models"""

from collector.direct_debit.models.bank_file import (
    BankFile,
    BankFileKind,
    BankTransaction,
    BankTransactionKind,
    BankTransactionStatus,
)
from collector.direct_debit.models.collection_run import (
    Collection,
    CollectionRun,
    CollectionRunStatus,
    CollectionStatus,
)
from collector.direct_debit.models.mandate import Mandate, MandateScheme, MandateStatus
from collector.direct_debit.models.mandate_upload import MandateUpload, MandateUploadStatus

__all__ = [
    "BankFile",
    "BankFileKind",
    "BankTransaction",
    "BankTransactionKind",
    "BankTransactionStatus",
    "Collection",
    "CollectionRun",
    "CollectionRunStatus",
    "CollectionStatus",
    "Mandate",
    "MandateScheme",
    "MandateStatus",
    "MandateUpload",
    "MandateUploadStatus",
]
