"""pain.002 customer payment status reports, read into plain records.

A pain.002 answers one pain.008 (``OrgnlMsgId``) at three levels: the whole file
(``GrpSts``), a batch (``PmtInfSts``) and a transaction (``TxSts``), each with optional
reasons. The shape is the same in .001.03 and .001.10.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from xml.etree.ElementTree import Element

from collector.direct_debit.files.iso20022 import BankFileError, amount, find, findall, text

REJECTED = "RJCT"
MESSAGE = "CstmrPmtStsRpt"


@dataclass(frozen=True)
class TransactionStatus:
    end_to_end_id: str | None
    status: str | None
    reason_code: str | None
    amount: Decimal | None


@dataclass(frozen=True)
class PaymentInfoStatus:
    payment_info_id: str | None
    status: str | None
    reason_code: str | None
    transactions: tuple[TransactionStatus, ...]


@dataclass(frozen=True)
class StatusReport:
    version: str  # e.g. pain.002.001.03
    message_id: str | None
    original_message_id: str | None
    original_message_type: str | None  # OrgnlMsgNmId, e.g. pain.008.001.02
    group_status: str | None
    group_reason_code: str | None
    payment_infos: tuple[PaymentInfoStatus, ...]

    @property
    def rejects_all(self) -> bool:
        return self.group_status == REJECTED


def read(version: str, document: Element) -> StatusReport:
    """The records of a pain.002 ``Document`` (namespaces removed)."""
    report = find(document, MESSAGE)
    if report is None:
        raise BankFileError(f"This pain.002 file has no {MESSAGE} element.")
    group = find(report, "OrgnlGrpInfAndSts")
    if group is None:
        raise BankFileError("This pain.002 file names no original message (OrgnlGrpInfAndSts).")
    return StatusReport(
        version=version,
        message_id=text(report, "GrpHdr/MsgId"),
        original_message_id=text(group, "OrgnlMsgId"),
        original_message_type=text(group, "OrgnlMsgNmId"),
        group_status=_upper(text(group, "GrpSts")),
        group_reason_code=_reason(group),
        payment_infos=tuple(_payment_info(p) for p in findall(report, "OrgnlPmtInfAndSts")),
    )


def _payment_info(element: Element) -> PaymentInfoStatus:
    return PaymentInfoStatus(
        payment_info_id=text(element, "OrgnlPmtInfId"),
        status=_upper(text(element, "PmtInfSts")),
        reason_code=_reason(element),
        transactions=tuple(_transaction(t) for t in findall(element, "TxInfAndSts")),
    )


def _transaction(element: Element) -> TransactionStatus:
    instructed = find(element, "OrgnlTxRef/Amt/InstdAmt")
    where = f"transaction {text(element, 'OrgnlEndToEndId') or '?'}"
    return TransactionStatus(
        end_to_end_id=text(element, "OrgnlEndToEndId"),
        status=_upper(text(element, "TxSts")),
        reason_code=_reason(element),
        amount=None if instructed is None else amount(instructed, where)[0],
    )


def _reason(element: Element) -> str | None:
    """The first status reason's code (``StsRsnInf/Rsn/Cd``, or its proprietary one)."""
    return text(element, "StsRsnInf/Rsn/Cd", "StsRsnInf/Rsn/Prtry")


def _upper(value: str | None) -> str | None:
    return value.upper() if value else None
