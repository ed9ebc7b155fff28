"""The mandates CSV upload: receive the file, check it into a preview, commit it whole.

- ``receive`` streams the file into the document store (hashed on the way) and records a
  ``MandateUpload`` in CHECKING; a job runs ``check``.
- ``check`` reads the stored file in chunks and records the counts and the first
  problems: READY when no row has an error, INVALID otherwise (nothing is stored).
- ``commit`` claims a READY upload (a conditional UPDATE, so a second commit of the
  same upload finds nothing to claim), reads the file again, checks every row again
  against what is stored *now* (the IBANs the check found valid are not validated
  again: ``mandate_scan.scan``), and inserts the new mandates (one statement per chunk
  of 1,000 rows, ``mandate_insert``) in one transaction that also marks the upload
  COMMITTED; one error anywhere and nothing is stored.

A mandate already stored under a row's reference for the same customer is "unchanged":
the same file uploaded again creates nothing.
"""

from __future__ import annotations

import csv
import io
import ntpath
from datetime import date, datetime, timedelta
from typing import BinaryIO

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from collector.accounts import audit
from collector.core.columns import utcnow
from collector.core.errors import Conflict, Invalid, NotFound
from collector.core.storage import ContentTooLarge, DocumentStore
from collector.direct_debit import mandate_problems as texts
from collector.direct_debit.mandate_csv import COLUMNS
from collector.direct_debit.mandate_insert import insert_chunk
from collector.direct_debit.mandate_scan import Tally, scan
from collector.direct_debit.models import MandateUpload, MandateUploadStatus
from collector.direct_debit.wording import english
from collector.extensions import db
from collector.runtime.listing import latest
from collector.runtime.models import JobRun
from collector.runtime.queue import QuietProgress

# 100,000 rows of the customers export, every column filled, are about 25 MB.
MAX_FILE_BYTES = 50 * 1024 * 1024
FILENAME_LENGTH = 255
JOB_NAMES = ("check_mandate_upload", "commit_mandate_upload")


def receive(
    stream: BinaryIO,
    filename: str,
    store: DocumentStore,
    *,
    actor: str,
    max_bytes: int = MAX_FILE_BYTES,
) -> MandateUpload:
    """Store the uploaded file and record its upload, to be checked. Commits."""
    try:
        key, size = store.put_stream(stream, max_bytes=max_bytes)
    except ContentTooLarge as exc:
        megabytes, rest = divmod(max_bytes, 1024 * 1024)
        if rest:
            too_large = _("The file is larger than %(bytes)s bytes; split it.", bytes=max_bytes)
        else:
            too_large = _("The file is larger than %(mb)s MB; split it.", mb=megabytes)
        raise Invalid({"file": [too_large]}) from exc
    # Some browsers send the whole client-side path; only its last part means anything.
    name = ntpath.basename(filename or "").strip() or "mandates.csv"
    upload = MandateUpload(
        filename=name[:FILENAME_LENGTH], file_key=key, size=size, actor=actor, problems=[]
    )
    db.session.add(upload)
    db.session.commit()
    return upload


def check(upload_id: int, store: DocumentStore, *, today: date, progress=None) -> MandateUpload:
    """Check every row of the upload's file and record the preview. Commits."""
    upload = _get(upload_id)
    if upload.status != MandateUploadStatus.CHECKING:
        raise Conflict(f"Upload {upload.id} is {upload.status.value}, not being checked.")
    try:
        tally = scan(
            upload.file_key, upload.size, store, today, progress=progress or QuietProgress()
        )
    except Exception as exc:
        _fail(upload, texts.CHECK_STOPPED, exc)
        raise
    _record(upload, tally)
    upload.status = MandateUploadStatus.READY if tally.ok else MandateUploadStatus.INVALID
    db.session.commit()
    return upload


def commit(upload_id: int, store: DocumentStore, *, today: date, actor: str) -> MandateUpload:
    """Store the upload's new mandates, all or none, after checking the file again."""
    _claim(upload_id)
    upload = _get(upload_id)
    try:
        tally = _store(upload, store, today, actor)
    except Exception as exc:
        _fail(upload, texts.COMMIT_STOPPED, exc)
        raise
    _record(upload, tally)
    if tally.ok:
        upload.status = MandateUploadStatus.COMMITTED
        upload.created_count = tally.new
        upload.committed_at, upload.committed_by = utcnow(), actor
        details = {"file": upload.filename, "created": tally.new, "unchanged": tally.unchanged}
        audit.record(
            "mandate.upload_committed",
            target=f"mandate_upload:{upload.id}",
            details=details,
            actor=actor,
        )
    else:
        upload.status = MandateUploadStatus.INVALID
    db.session.commit()  # the mandates and the upload's new state together
    return upload


def _claim(upload_id: int) -> None:
    claimed = db.session.execute(
        sa.update(MandateUpload)
        .where(MandateUpload.id == upload_id, MandateUpload.status == MandateUploadStatus.READY)
        .values(status=MandateUploadStatus.COMMITTING)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if not claimed:
        upload = _get(upload_id)
        raise Conflict(
            f"Upload {upload.id} is {upload.status.value}: only a checked upload without "
            "errors can be committed, once."
        )


def _store(upload: MandateUpload, store: DocumentStore, today: date, actor: str) -> Tally:
    now = utcnow()

    def insert(rows: list[dict]) -> None:
        insert_chunk(rows, upload_id=upload.id, actor=actor, now=now)

    # Only a check that found no error makes an upload READY, and only a READY upload is
    # claimed: its file's IBANs were all found valid.
    def stored_pass() -> Tally:
        return scan(upload.file_key, upload.size, store, today, insert=insert, checked=True)

    try:
        tally = stored_pass()
    except IntegrityError:
        # Another upload stored some of the same references after this pass read them
        # (the unique reference key stopped it); a second pass sees them as stored.
        db.session.rollback()
        tally = stored_pass()
    if not tally.ok:
        db.session.rollback()
    return tally


def _record(upload: MandateUpload, tally: Tally) -> None:
    upload.file_error = tally.file_error
    if tally.file_error is not None:
        tally = Tally(file_error=tally.file_error)  # a file that cannot be read has no rows
    upload.rows = tally.rows
    upload.new_count = tally.new
    upload.unchanged_count = tally.unchanged
    upload.error_count = tally.errors
    upload.warning_count = tally.warnings
    upload.problems = tally.problems


def stopped(live_checks: set[int], live_commits: set[int], now: datetime) -> tuple[list, list]:
    """Uploads whose check or commit no job is doing any more (its worker stopped and
    rq's retries ran out, or a retry found the commit claimed): (to check, to commit).

    A stopped commit stored nothing — its one transaction died with it — so it is ready
    again. Commits.
    """
    open_rows = db.session.scalars(
        sa.select(MandateUpload).where(
            MandateUpload.status.in_([MandateUploadStatus.CHECKING, MandateUploadStatus.COMMITTING])
        )
    ).all()
    # A check's job is queued just after its upload is recorded: give it time to be.
    checks = [
        u
        for u in open_rows
        if u.status == MandateUploadStatus.CHECKING
        and u.id not in live_checks
        and u.created_at < now - timedelta(minutes=2)
    ]
    commits = [
        u
        for u in open_rows
        if u.status == MandateUploadStatus.COMMITTING and u.id not in live_commits
    ]
    for upload in commits:
        upload.status = MandateUploadStatus.READY
    db.session.commit()
    return checks, commits


def _fail(upload: MandateUpload, sentence: str, exc: Exception) -> None:
    db.session.rollback()
    upload.status = MandateUploadStatus.FAILED
    upload.file_error = english(sentence, error=f"{type(exc).__name__}: {exc}")[:500]
    db.session.commit()


def _get(upload_id: int) -> MandateUpload:
    upload = db.session.get(MandateUpload, upload_id)
    if upload is None:
        raise NotFound(f"No mandates upload with id {upload_id}.")
    return upload


# -- for the pages --------------------------------------------------------------------------


def get_upload(upload_id: int) -> MandateUpload:
    """The upload with this id, or ``NotFound``."""
    return _get(upload_id)


def recent_uploads(limit: int = 20) -> list[MandateUpload]:
    """The latest uploads, newest first."""
    return latest(MandateUpload, limit)


def earlier_uploads(upload: MandateUpload) -> list[MandateUpload]:
    """Earlier uploads of the very same file (same SHA-256), newest first."""
    query = (
        sa.select(MandateUpload)
        .where(MandateUpload.file_key == upload.file_key, MandateUpload.id < upload.id)
        .order_by(MandateUpload.id.desc())
        .limit(5)
    )
    return list(db.session.scalars(query))


def latest_job(upload: MandateUpload) -> JobRun | None:
    """The upload's latest check or commit job (they take the upload id first)."""
    # JobRun keeps its arguments as JSON text, so the id is matched in that text: the
    # list is "[id]" or "[id, ...]" as json.dumps writes it.
    args = sa.cast(JobRun.args, sa.Text)
    query = (
        sa.select(JobRun)
        .where(
            JobRun.name.in_(JOB_NAMES),
            sa.or_(args == f"[{upload.id}]", args.like(f"[{upload.id},%")),
        )
        .order_by(JobRun.id.desc())
        .limit(1)
    )
    return db.session.scalars(query).first()


def in_progress(upload: MandateUpload, job: JobRun | None) -> bool:
    """Whether a job is (or should soon be) working on the upload."""
    if upload.status in (MandateUploadStatus.CHECKING, MandateUploadStatus.COMMITTING):
        return True
    return job is not None and not job.done and job.name == JOB_NAMES[1]


def template_csv() -> str:
    """An empty mandates CSV: just the header, every column the upload reads."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(COLUMNS)
    return buffer.getvalue()


def summary(upload: MandateUpload) -> str:
    """One line for the job's history."""
    if upload.file_error:
        return upload.file_error
    text = (
        f"{upload.rows} mandate row(s): {upload.new_count} new, {upload.unchanged_count} "
        f"unchanged, {upload.error_count} error(s), {upload.warning_count} warning(s)"
    )
    if upload.status == MandateUploadStatus.COMMITTED:
        text += f"; {upload.created_count} stored"
    return text
