"""Bank files: upload a camt.053/camt.054 statement or a pain.002 status report and apply
what it says to collections and documents.

``upload`` works in one transaction: a file it refuses — unreadable, for another
account, answering a file that is not ours, seen before — writes nothing. A statement
is applied by ``bank_statements``; a pain.002 here: its rejects (of a transaction, a
batch or the whole file) reject collections before settlement.

Each fact gets one ``BankTransaction`` whose unique key names it, so the camt.053 that
repeats a camt.054 finds everything known and counts it once.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import PurePosixPath, PureWindowsPath

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from collector.accounts.creditor import grouped
from collector.accounts.models import Creditor
from collector.core.errors import ServiceError
from collector.core.storage import DocumentStore
from collector.direct_debit import bank_statements, collection_outcomes
from collector.direct_debit.bank_statements import COUNTS, Applying, cut
from collector.direct_debit.files import reading as parser
from collector.direct_debit.files.pain002 import REJECTED
from collector.direct_debit.files.reading import BankFileError, CamtFile, StatusReport
from collector.direct_debit.models import (
    BankFile,
    BankFileKind,
    BankTransactionKind,
    Collection,
    CollectionRun,
)
from collector.extensions import db
from collector.runtime.listing import latest

KINDS = {"camt.053": BankFileKind.CAMT053, "camt.054": BankFileKind.CAMT054}


class BankFileRefused(ServiceError):
    """The whole file is refused; nothing was written."""


class AlreadyUploaded(BankFileRefused):
    """This very file (same SHA-256) was uploaded before."""


# -- upload --------------------------------------------------------------------------------


def upload(
    store: DocumentStore, filename: str, content: bytes, actor: str, today: date
) -> BankFile:
    """Read, check and apply a bank file in one transaction; raise BankFileRefused (and
    write nothing) when it cannot be applied."""
    sha256 = hashlib.sha256(content).hexdigest()
    _refuse_if_seen(sha256)
    try:
        parsed = parser.parse(content)
    except BankFileError as exc:
        raise BankFileRefused(str(exc)) from None
    run = None
    if isinstance(parsed, StatusReport):
        run = _check_run(parsed)
    else:
        _check_account(parsed)
    bank_file = BankFile(
        kind=BankFileKind.PAIN002 if run else KINDS[parsed.kind],
        filename=_base_name(filename),
        sha256=sha256,
        file_key=store.put(content),
        message_id=(parsed.message_id or "")[:35] or None,
        account_iban=None if run else parsed.account_ibans[0],
        actor=actor,
        summary={},
    )
    try:
        db.session.add(bank_file)
        db.session.flush()
        applying = bank_statements.Applying(bank_file, actor, today)
        if run is not None:
            _apply_status_report(applying, parsed, run)
        else:
            bank_statements.apply_statement(applying, parsed)
        bank_file.summary = applying.summary()
        db.session.commit()
    except IntegrityError:
        # Another upload of this very file won the race on the unique SHA-256.
        db.session.rollback()
        _refuse_if_seen(sha256)
        raise
    except BaseException:
        db.session.rollback()
        raise
    return bank_file


def _refuse_if_seen(sha256: str) -> None:
    seen = db.session.scalars(sa.select(BankFile).where(BankFile.sha256 == sha256)).first()
    if seen is not None:
        raise AlreadyUploaded(
            f"This file was already uploaded on {seen.created_at:%Y-%m-%d} "
            f"(as {seen.filename}); nothing was changed."
        )


def _check_account(statement: CamtFile) -> None:
    ours = db.session.scalar(sa.select(Creditor.iban).order_by(Creditor.id).limit(1))
    if not ours:
        raise BankFileRefused(
            "Set the creditor's IBAN in Settings first: a statement is only applied when "
            "it is for our own account."
        )
    for iban in statement.account_ibans:
        if iban is None:
            raise BankFileRefused("This statement names its account without an IBAN.")
        if iban != ours:
            raise BankFileRefused(
                f"This statement is for account {grouped(iban)}, not ours {grouped(ours)}."
            )


def _check_run(report: StatusReport) -> CollectionRun:
    original = report.original_message_id
    kind = report.original_message_type or ""
    if kind and not kind.startswith("pain.008"):
        raise BankFileRefused(
            f"This status report answers a {kind[:35]} file, not one of our direct-debit "
            "files (pain.008)."
        )
    run = None
    if original:
        run = db.session.scalars(
            sa.select(CollectionRun).where(CollectionRun.message_id == original)
        ).first()
    if run is None:
        raise BankFileRefused(
            f"This status report answers the file {(original or '(none named)')[:35]}, which "
            "is not one of our collection runs."
        )
    return run


def _base_name(filename: str) -> str:
    name = PureWindowsPath(PurePosixPath(filename or "").name).name.strip()
    return (name or "bank file")[:255]


# -- pain.002 -------------------------------------------------------------------------------


def _apply_status_report(applying: Applying, report: StatusReport, run: CollectionRun) -> None:
    applying.counts["run_id"] = run.id
    rejected = _rejections(report, run)
    for collection in run.collections:
        if collection.end_to_end_id in rejected:
            _reject(applying, collection, rejected.pop(collection.end_to_end_id))
    # Accepted transactions need nothing; rejected ones not in the run are not ours.
    accepted = [t for p in report.payment_infos for t in p.transactions if t.status != REJECTED]
    applying.count("skipped", len(accepted) + len(rejected))


def _rejections(report: StatusReport, run: CollectionRun) -> dict[str, str | None]:
    """End-to-end id → reason code of every collection the report rejects: the
    transaction's own reason first, then its batch's, then the file's."""
    group_code = report.group_reason_code
    rejected: dict[str, str | None] = {}
    if report.rejects_all:
        rejected = {c.end_to_end_id: group_code for c in run.collections}
    for info in report.payment_infos:
        batch_code = info.reason_code or group_code
        if info.status == REJECTED:
            for c in run.collections:
                if c.payment_info_id == info.payment_info_id:
                    rejected[c.end_to_end_id] = batch_code
        for tx in info.transactions:
            if tx.status == REJECTED and tx.end_to_end_id:
                rejected[tx.end_to_end_id] = tx.reason_code or batch_code
    return rejected


def _reject(applying: Applying, collection: Collection, code: str | None) -> None:
    row = applying.claim(
        f"reject:{collection.end_to_end_id}",
        BankTransactionKind.REJECT,
        amount=collection.amount,
        currency=collection.currency,
        booked_on=applying.today,
        end_to_end_id=collection.end_to_end_id,
        reason_code=cut(code, 8),
        collection_id=collection.id,
        invoice_id=collection.invoice_id,
    )
    if row is None:
        return
    if collection_outcomes.reject(collection, code, applying.actor, applying.today):
        applying.count("rejected")
    else:
        row.note = f"The collection was {collection.status.value} already: nothing changed."
        applying.count("skipped")


# -- lists ----------------------------------------------------------------------------------


def recent(limit: int = 100) -> list[BankFile]:
    """The latest uploaded files, newest first."""
    return latest(BankFile, limit)


def counts_of(bank_file: BankFile) -> list[tuple[str, int]]:
    """The summary's counts in a fixed order, for display."""
    summary = bank_file.summary or {}
    return [(key, summary.get(key, 0)) for key in (*COUNTS, "pending")]
