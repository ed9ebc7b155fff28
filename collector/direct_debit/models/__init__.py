"""The direct-debit tables: mandates and their uploads, collection runs and the
collections in them, bank files and the transactions read from them."""

from collector.direct_debit.models.bank_file import BankFile, BankFileKind
from collector.direct_debit.models.bank_transaction import (
    BankTransaction,
    BankTransactionKind,
    BankTransactionStatus,
)
from collector.direct_debit.models.collection import Collection, CollectionStatus
from collector.direct_debit.models.collection_run import CollectionRun, CollectionRunStatus
from collector.direct_debit.models.mandate import Mandate, MandateScheme, MandateStatus
from collector.direct_debit.models.mandate_signature import MandateSignature
from collector.direct_debit.models.mandate_upload import MandateUpload, MandateUploadStatus
from collector.direct_debit.models.return_rule import ReturnAction, ReturnRule
from collector.direct_debit.models.signing_link import SigningLink

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
    "MandateSignature",
    "MandateStatus",
    "MandateUpload",
    "MandateUploadStatus",
    "ReturnAction",
    "ReturnRule",
    "SigningLink",
]
