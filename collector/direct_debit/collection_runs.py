"""Collection runs: the direct debits due, written as pain.008 files — one run and one
file per creditor account, as each company entity collects as itself — then marked as
sent to the bank or cancelled.

``preview`` (in ``collection_preview``) says what would be taken; ``create_runs`` makes
the runs, their collections and their files in one transaction, each document locked and
checked again, so two runs made at once never collect one document twice. Until its file
is marked sent, a run can be cancelled: its documents open again and its mandates forget
the use (a cancelled FRST leaves the mandate unused, so the next run sends FRST again).

For the bank files: a ``Collection`` is found by its ``end_to_end_id`` (a batch by
``payment_info_id``, the run by ``message_id``); its document stays PENDING while the
collection is.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import joinedload

from collector.accounts import audit
from collector.accounts.models import Creditor
from collector.core.columns import utcnow
from collector.core.errors import Conflict, NotFound, required_reason
from collector.core.locking import for_update
from collector.core.storage import DocumentStore
from collector.direct_debit import collection_outcomes, failed_debits
from collector.direct_debit import debits as direct_debit
from collector.direct_debit.collection_preview import Candidate, account_key, preview
from collector.direct_debit.files import pain008
from collector.direct_debit.models import (
    Collection,
    CollectionRun,
    CollectionRunStatus,
    CollectionStatus,
    Mandate,
    MandateScheme,
)
from collector.direct_debit.wording import N_, date_text, english, money_text, state_word
from collector.documents import ledger
from collector.documents.models import Invoice
from collector.documents.references import structured_reference
from collector.dunning import policy
from collector.extensions import db
from collector.runtime.wordings import Sentence, date_value, money_value, says

# Told on the document's timeline when its collection starts.
STARTED = N_(
    "Collection run #%(run)s: direct debit of %(amount)s on %(day)s (%(sequence)s, mandate "
    "%(mandate)s)."
)

ZERO = Decimal("0.00")
MAX_REASON = 300


def create_runs(
    store: DocumentStore,
    today: date,
    until: date,
    scheme: MandateScheme | str,
    actor: str,
    *,
    expected: tuple[int, Decimal] | None = None,
) -> list[CollectionRun]:
    """Collect every document ``preview`` finds: a run per creditor account, each with its
    collections and its stored pain.008, the documents PENDING; commits. Refused when no
    creditor can collect, nothing is left to collect, or the count and total differ from
    ``expected`` (what the person was shown)."""
    plan = preview(today, until, scheme)
    if not plan.candidates and plan.creditor_problem:
        raise Conflict(plan.creditor_problem)
    if not plan.candidates:
        raise Conflict(
            _(
                "Nothing to collect on %(scheme)s mandates up to %(day)s.",
                scheme=plan.scheme.value,
                day=date_text(until),
            )
        )
    if expected is not None and expected != (plan.count, plan.total):
        raise Conflict(
            ngettext(
                "What is to be collected changed since you looked: now %(num)s direct debit "
                "for %(total)s. Check the numbers again.",
                "What is to be collected changed since you looked: now %(num)s direct debits "
                "for %(total)s. Check the numbers again.",
                plan.count,
                total=money_text(plan.total, direct_debit.CURRENCY),
            )
        )
    runs = []
    for creditor, candidates in _per_account(plan.candidates):
        run = _run(plan.scheme, creditor, until, actor)
        collections = _collect(run, candidates, actor, today)
        if not collections:
            db.session.delete(run)
            continue
        try:
            _write_file(run, collections, creditor, store)
        except pain008.SepaFileError as exc:
            db.session.rollback()
            raise Conflict(_("The pain.008 could not be written: %(error)s", error=exc)) from exc
        runs.append(run)
    if not runs:
        db.session.rollback()
        raise Conflict(
            _("Another run or a payment took these documents meanwhile: nothing is left.")
        )
    for run in runs:
        details = {"scheme": plan.scheme.value, "until": until, "collections": len(run.collections)}
        audit.record(
            "collection_run.approved",
            target=f"collection_run:{run.id}",
            details=details,
            actor=actor,
        )
    db.session.commit()
    return runs


def create_run(
    store: DocumentStore, today: date, until: date, scheme: MandateScheme | str, actor: str, **kw
) -> CollectionRun:
    """``create_runs`` when every document is collected into one account: its one run."""
    runs = create_runs(store, today, until, scheme, actor, **kw)
    if len(runs) != 1:
        raise ValueError(f"{len(runs)} runs made: use create_runs")
    return runs[0]


def _per_account(candidates: list[Candidate]) -> list[tuple[Creditor, list[Candidate]]]:
    """The candidates grouped by the creditor account that collects them: entities sharing
    one account, name and identifier share one file."""
    ids = {c.creditor_id for c in candidates}
    creditors = {
        c.id: c for c in db.session.scalars(sa.select(Creditor).where(Creditor.id.in_(ids)))
    }
    groups: dict[tuple, tuple[Creditor, list[Candidate]]] = {}
    for candidate in candidates:
        creditor = creditors[candidate.creditor_id]
        groups.setdefault(account_key(creditor), (creditor, []))[1].append(candidate)
    return sorted(groups.values(), key=lambda group: group[0].id)


def _run(scheme: MandateScheme, creditor: Creditor, until: date, actor: str) -> CollectionRun:
    run = CollectionRun(
        scheme=scheme,
        status=CollectionRunStatus.CREATED,
        # The file names the real one; this only holds the unique column until then.
        message_id=f"new-{uuid.uuid4().hex[:31]}",
        pain_version=creditor.pain_version,
        creditor_name=creditor.name,
        creditor_iban=creditor.iban,
        total=ZERO,
        currency=direct_debit.CURRENCY,
        collect_until=until,
        actor=actor[:128],
    )
    db.session.add(run)
    db.session.flush()
    return run


def _collect(
    run: CollectionRun, candidates: list[Candidate], actor: str, today: date
) -> list[Collection]:
    """A collection per document still collectable once locked; its document PENDING."""
    # Locked in id order, documents before mandates, as every run does: no deadlocks, and
    # a second run waits here until the first commits, then sees its documents PENDING.
    taken = [
        (invoice, candidate)
        for candidate in sorted(candidates, key=lambda c: c.invoice_id)
        if _still_open(invoice := ledger.lock(candidate.invoice_id), candidate)
        # Put on hold since the preview: the same rule, asked again under the lock.
        and policy.debit_blocker(invoice, today) is None
    ]
    mandates = _lock_mandates(c.mandate_id for _, c in taken)
    # Read before any collection is made: a retry is its failed one's attempt plus one.
    attempts = {invoice.id: failed_debits.next_attempt(invoice.id) for invoice, _ in taken}
    collections = []
    for invoice, candidate in taken:
        mandate = mandates[candidate.mandate_id]
        if not mandate.active:
            continue  # revoked since the preview
        collection = _collection(run, invoice, mandate, candidate.collection_date)
        collection.attempt = attempts[invoice.id]
        collections.append(collection)
    db.session.add_all(collections)
    for collection in collections:
        ledger.start_collection(collection.invoice, _start_reason(run, collection), actor=actor)
    for mandate in mandates.values():
        direct_debit.refresh_use(mandate)
    return collections


def _still_open(invoice: Invoice | None, candidate: Candidate) -> bool:
    return (
        invoice is not None
        and invoice.state in ledger.OPEN
        and invoice.amount_due > 0
        and invoice.profile_id == candidate.profile_id
    )


def _collection(run: CollectionRun, invoice: Invoice, mandate: Mandate, on: date) -> Collection:
    # Read before refresh_use: every collection of a mandate's first run is a FRST.
    return Collection(
        run=run,
        invoice=invoice,
        mandate=mandate,
        amount=invoice.amount_due,
        currency=invoice.currency,
        sequence_type=mandate.sequence_type,
        collection_date=on,
        end_to_end_id=f"DD-{run.id}-{invoice.id}",
        status=CollectionStatus.PENDING,
    )


def _start_reason(run: CollectionRun, collection: Collection) -> Sentence:
    return says(
        STARTED,
        run=run.id,
        amount=money_value(collection.amount, collection.currency),
        day=date_value(collection.collection_date),
        sequence=collection.sequence_type,
        mandate=collection.mandate.reference,
    )


def _lock_mandates(ids: Iterable[int]) -> dict[int, Mandate]:
    # In id order: two runs locking the same mandates cannot deadlock.
    query = for_update(Mandate, Mandate.id.in_(set(ids))).order_by(Mandate.id)
    return {mandate.id: mandate for mandate in db.session.scalars(query)}


def _write_file(
    run: CollectionRun, collections: list[Collection], creditor: Creditor, store: DocumentStore
) -> None:
    account = pain008.CreditorAccount(
        name=creditor.name,
        iban=creditor.iban,
        bic=creditor.bic,
        identifier=creditor.creditor_identifier,
    )
    debits = [_debit(collection) for collection in collections]
    pain = pain008.build(
        account,
        debits,
        scheme=run.scheme.value,
        version=run.pain_version,
        currency=run.currency,
    )
    run.message_id = pain.message_id
    run.file_key = store.put(pain.content)
    run.count = len(collections)
    run.total = sum((c.amount for c in collections), ZERO)
    for collection in collections:
        collection.payment_info_id = pain.payment_info_ids[collection.end_to_end_id]


def _debit(collection: Collection) -> pain008.Debit:
    mandate, invoice = collection.mandate, collection.invoice
    return pain008.Debit(
        end_to_end_id=collection.end_to_end_id,
        amount=collection.amount,
        sequence_type=collection.sequence_type,
        collection_date=collection.collection_date,
        mandate_reference=mandate.reference,
        mandate_signed_on=mandate.signed_on,
        debtor_name=mandate.debtor_name,
        iban=mandate.iban,
        bic=mandate.bic,
        # What the debtor's statement shows: the document and its structured reference.
        remittance=f"{invoice.number} {structured_reference(invoice)}",
    )


# -- after the run is made -----------------------------------------------------------------


def mark_sent(run: CollectionRun, actor: str) -> CollectionRun:
    """The file went to the bank: the run can no longer be cancelled. Commits."""
    run = _lock_run(run.id)
    if run.status != CollectionRunStatus.CREATED:
        raise Conflict(
            _(
                "Run #%(run)s is %(status)s: it cannot be marked as sent.",
                run=run.id,
                status=state_word(run.status.value),
            )
        )
    run.status = CollectionRunStatus.SENT
    run.sent_at, run.sent_by = utcnow(), actor[:128]
    audit.record("collection_run.sent", target=f"collection_run:{run.id}", actor=actor)
    db.session.commit()
    return run


def cancel(run: CollectionRun, reason: str, actor: str, today: date) -> CollectionRun:
    """Withdraw a run whose file was not sent: its collections cancelled, its documents
    open again, its mandates as if it never was. Commits."""
    reason = required_reason(reason, _("Give a reason: it is kept on the run and its documents."))
    run = _lock_run(run.id)
    if run.status != CollectionRunStatus.CREATED:
        raise Conflict(
            _(
                "Run #%(run)s is %(status)s: only a created run can be cancelled.",
                run=run.id,
                status=state_word(run.status.value),
            )
        )
    if any(c.status != CollectionStatus.PENDING for c in run.collections):
        raise Conflict(
            _("The bank has answered for collections of run #%(run)s already.", run=run.id)
        )
    why = english(collection_outcomes.RUN_CANCELLED, run=run.id, reason=reason)
    for collection in sorted(run.collections, key=lambda c: c.invoice_id):
        invoice = ledger.lock(collection.invoice_id)
        collection.status = CollectionStatus.CANCELLED
        collection.reason = why[:MAX_REASON]
        if invoice is not None:
            cancelled = says(collection_outcomes.RUN_CANCELLED, run=run.id, reason=reason)
            ledger.collection_failed(invoice, cancelled, actor=actor, today=today)
    for mandate in _lock_mandates(c.mandate_id for c in run.collections).values():
        direct_debit.refresh_use(mandate)
    run.status = CollectionRunStatus.CANCELLED
    run.cancelled_at, run.cancelled_by, run.cancel_reason = utcnow(), actor[:128], reason
    details = {"reason": reason, "collections": len(run.collections)}
    audit.record(
        "collection_run.cancelled", target=f"collection_run:{run.id}", details=details, actor=actor
    )
    db.session.commit()
    return run


def _lock_run(run_id: int) -> CollectionRun:
    return db.session.scalars(for_update(CollectionRun, CollectionRun.id == run_id)).one()


# -- reading -------------------------------------------------------------------------------


def file(run: CollectionRun, store: DocumentStore) -> bytes:
    """The run's pain.008, as stored."""
    if run.file_key is None:
        raise NotFound(f"Run #{run.id} has no file.")
    return store.get(run.file_key)


def file_name(run: CollectionRun) -> str:
    """What the download is called: the run and the file's message id."""
    return f"pain.008-run-{run.id}-{run.message_id}.xml"


def collections_of(run: CollectionRun) -> list[Collection]:
    """The run's collections with their documents, customers and mandates loaded."""
    query = (
        sa.select(Collection)
        .where(Collection.run_id == run.id)
        .options(
            joinedload(Collection.invoice).joinedload(Invoice.customer),
            joinedload(Collection.mandate),
        )
        .order_by(Collection.collection_date, Collection.sequence_type, Collection.id)
    )
    return list(db.session.scalars(query))
