"""Bank files: upload a camt.053/camt.054 statement or a pain.002 status report and apply
what it says to collections and documents.

``upload`` works in one transaction: a file it refuses — unreadable, for no account of
ours, answering a file that is not ours, seen before — writes nothing. A statement of
several accounts is applied for ours; the others are named in its summary. An account
the bank names by its domestic number (``Othr/Id``) instead of its IBAN is ours when
that number is our IBAN's. A statement
is applied by ``bank_statements``; a pain.002 here: its rejects (of a transaction, a
batch or the whole file) reject collections before settlement.

Each fact gets one ``BankTransaction`` whose unique key names it, so the camt.053 that
repeats a camt.054 finds everything known and counts it once.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import date
from pathlib import PurePosixPath, PureWindowsPath

import sqlalchemy as sa
from flask_babel import gettext as _
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from sqlalchemy.exc import IntegrityError

from collector.accounts import audit
from collector.accounts.creditor import grouped
from collector.accounts.models import Creditor
from collector.core import clock
from collector.core.errors import ServiceError
from collector.core.storage import DocumentStore
from collector.direct_debit import bank_notes as notes
from collector.direct_debit import bank_statements, collection_outcomes
from collector.direct_debit.bank_statements import COUNTS, Applying, cut
from collector.direct_debit.files import reading as parser
from collector.direct_debit.files.camt import CamtAccountReport
from collector.direct_debit.files.pain002 import REJECTED
from collector.direct_debit.files.reading import BankFileError, CamtFile, StatusReport
from collector.direct_debit.models import (
    BankFile,
    BankFileKind,
    BankTransactionKind,
    Collection,
    CollectionRun,
)
from collector.direct_debit.wording import date_text, english
from collector.extensions import db

KINDS = {"camt.053": BankFileKind.CAMT053, "camt.054": BankFileKind.CAMT054}
# CODA and MT940 are read into camt.053's records; the file is still known by its format.
FORMATS = {"CODA 2": BankFileKind.CODA, "MT940": BankFileKind.MT940}
# Shorter account numbers (after leading zeros) could match by accident.
MIN_ACCOUNT_DIGITS = 6


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
        raise BankFileRefused(notes.REFUSALS.shown(str(exc))) from None
    run, others = None, []
    if isinstance(parsed, StatusReport):
        run = _check_run(parsed)
    else:
        parsed, others = _our_part(parsed)
    bank_file = BankFile(
        kind=BankFileKind.PAIN002 if run else FORMATS.get(parsed.version, KINDS[parsed.kind]),
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
        if others:
            applying.counts["other_accounts"] = len(others)
        bank_file.summary = applying.summary()
        if others:
            bank_file.summary["other_account_names"] = others
        details = {"file": bank_file.filename, "kind": bank_file.kind.value, **applying.counts}
        audit.record(
            "bank_file.imported", target=f"bank_file:{bank_file.id}", details=details, actor=actor
        )
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
            _(
                "This file was already uploaded on %(day)s (as %(name)s); nothing was changed.",
                day=date_text(clock.local_date(seen.created_at)),
                name=seen.filename,
            )
        )


def _our_part(statement: CamtFile) -> tuple[CamtFile, list[str]]:
    """The statement's accounts that are ours, and the names of the others; refuses a
    statement with none of ours."""
    listed = db.session.scalars(sa.select(Creditor.iban).order_by(Creditor.id))
    ours = [iban for iban in listed if iban]
    if not ours:
        raise BankFileRefused(
            _(
                "Set the creditor's IBAN in Settings first: a statement is only applied when "
                "it is for our own account."
            )
        )
    kept, others = [], []
    for report in statement.reports:
        iban = _account_of(report, ours)
        if iban is None:
            others.append(_account_name(report))
        else:
            kept.append(replace(report, account_iban=iban))
    if not kept:
        raise BankFileRefused(_not_ours(statement.reports, ours[0]))
    return replace(statement, reports=tuple(kept)), others


def _account_of(report: CamtAccountReport, ours: list[str]) -> str | None:
    """Our IBAN that ``report`` is for, or None when it is for another account."""
    if report.account_iban:
        return report.account_iban if report.account_iban in ours else None
    given = _number_forms(report.account_other_id)
    return next((iban for iban in ours if given & _number_forms(*_domestic(iban))), None)


def _domestic(iban: str) -> tuple[str, ...]:
    """The ways a bank may write ``iban``'s account without its IBAN: the BBAN (the
    Belgian 12-digit number, 510-0075470-61) or the account code alone (the Dutch
    number, 0417164300) — besides the IBAN itself, which some banks put there."""
    try:
        parsed = IBAN(iban)
    except SchwiftyException:
        return (iban,)
    return (iban, parsed.bban, parsed.account_code)


def _number_forms(*numbers: str | None) -> set[str]:
    """Account numbers compacted (no spaces, dashes or dots), with and without leading
    zeros, as far as they are long enough not to match by chance."""
    forms = set()
    for number in numbers:
        compact = re.sub(r"[^0-9A-Z]", "", (number or "").upper())
        forms |= {f for f in (compact, compact.lstrip("0")) if len(f) >= MIN_ACCOUNT_DIGITS}
    return forms


def _account_name(report: CamtAccountReport) -> str:
    if report.account_iban:
        return grouped(report.account_iban)
    return report.account_other_id or _("(no account named)")


def _not_ours(reports: tuple[CamtAccountReport, ...], ours: str) -> str:
    """Why a statement with none of our accounts is refused, saying what to change."""
    if len(reports) > 1:
        names = ", ".join(_account_name(r) for r in reports)
        return _(
            "This statement is for accounts %(names)s; none is ours %(ours)s.",
            names=names,
            ours=grouped(ours),
        )
    (report,) = reports
    if report.account_iban:
        return _(
            "This statement is for account %(account)s, not ours %(ours)s.",
            account=grouped(report.account_iban),
            ours=grouped(ours),
        )
    if report.account_other_id:
        return _(
            "This statement names its account by number %(number)s, not by IBAN, and that is "
            "not the number of our account %(ours)s. If it is our account, set its IBAN as the "
            "creditor's IBAN in Settings.",
            number=report.account_other_id[:34],
            ours=grouped(ours),
        )
    return _("This statement names its account without an IBAN or an account number.")


def _check_run(report: StatusReport) -> CollectionRun:
    original = report.original_message_id
    kind = report.original_message_type or ""
    if kind and not kind.lower().startswith("pain.008"):
        raise BankFileRefused(
            _(
                "This status report answers a %(kind)s file, not one of our direct-debit "
                "files (pain.008).",
                kind=kind[:35],
            )
        )
    run = None
    if original:
        run = db.session.scalars(
            sa.select(CollectionRun).where(CollectionRun.message_id == original)
        ).first()
    if run is None:
        raise BankFileRefused(
            _(
                "This status report answers the file %(file)s, which is not one of our "
                "collection runs.",
                file=(original or _("(none named)"))[:35],
            )
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
        row.note = english(notes.ALREADY, status=collection.status.value)
        applying.count("skipped")


# -- lists ----------------------------------------------------------------------------------


def counts_of(bank_file: BankFile) -> list[tuple[str, int]]:
    """The summary's counts in a fixed order, for display."""
    summary = bank_file.summary or {}
    extra = ("pending", "transfers_returned", "other_accounts")
    return [(key, summary.get(key, 0)) for key in (*COUNTS, *extra)]
