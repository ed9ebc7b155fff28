"""Forwarding documents to Exact Online: one sales entry each, with its PDF, never twice.

Exact has no duplicate check (reference §5.6), so a document is posted only when
- our ``ExactBooking`` has no entry id, and
- the journal holds no entry with the document's reference (``YourRef``) for that customer
  and amount — searched in batches of 40 right before posting, which covers a crash between
  Exact's answer and our commit, and entries someone booked by hand or through an earlier
  integration.
A document that cannot be booked (a VAT rate without a mapping, Exact refusing it) is skipped
with its reason and tried again next run; it never stops the others. An outage or a refused
token ends the run: the next one resumes where it stopped. So does a rate limit the job will
not wait for (``collector.core.ratelimit.RateLimited``), which is raised for the job to be
started again at the reset: the document it met is left as it was. Customers without a
stored account are searched per batch, for the run only (``accounts.RunAccounts``).

A run never calls Exact or Teamleader with a write of its own uncommitted: a call may refresh
a token, which stores the rotated pair in a transaction of its own under the lock on the
connection row (SQLite: the one writer lock), and would wait for the run that waits for it.
So the lease is renewed in a short transaction of its own, and a document's bookkeeping is
committed before its first call.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from collector.core.columns import utcnow
from collector.core.ratelimit import RateLimited
from collector.core.storage import DocumentStore
from collector.documents.models import DocumentKind, Invoice
from collector.exact import ExactClient, ExactError, ValidationFailed, accounts
from collector.exact.entries import Unmapped, entry_body, journal_for, with_links
from collector.exact.models import (
    BookingStatus,
    ExactBooking,
    ExactConnection,
    ExactSyncRun,
    SyncTrigger,
)
from collector.exact.settings import note_term, term_key
from collector.extensions import db
from collector.runtime import operator_alerts
from collector.teamleader import TeamleaderClient, TeamleaderError
from collector.teamleader.errors import NotFound as TeamleaderNotFound
from collector.teamleader.errors import ValidationFailed as TeamleaderRefused
from collector.teamleader.models import ConnectionStatus

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)  # renewed per document; a dead run's lease runs out
HISTORY = timedelta(days=7)
PAGE = "exact.index"  # the sync history, where a failing document's attempts are read
REASON_MAX = 1000


class RunBusy(Exception):
    """Another forwarding run holds the connection's lease."""


@dataclass
class Outcome:
    """What one document's attempt came to."""

    status: BookingStatus
    found: bool = False
    reason: str | None = None


def forward(
    connection: ExactConnection,
    exact: ExactClient,
    teamleader: TeamleaderClient,
    store: DocumentStore,
    *,
    trigger: SyncTrigger,
    limit: int = 500,
    invoice_ids: Iterable[int] | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> ExactSyncRun:
    """Book what is due in Exact (``invoice_ids``: only those) and record the run; a rate
    limit the job will not wait for is recorded on the run and raised (``RateLimited``)."""
    if not claim_lease(connection.id, clock()):
        raise RunBusy("another Exact Online run is in progress")
    run = ExactSyncRun(division=connection.division, trigger=trigger, started_at=clock())
    db.session.add(run)
    db.session.commit()
    calls_before = sum(exact.calls.values())
    accts = accounts.RunAccounts(connection, exact)  # this run's look-ups only
    tried, limited = set(), None
    try:
        while len(tried) < limit:
            batch = candidates(
                connection, exclude=tried, only=invoice_ids, limit=min(100, limit - len(tried))
            )
            if not batch:
                break
            existing = existing_entries(exact, connection, batch)
            accts.expect([i.customer for i in batch if not _waiting_reason(i)])
            for invoice in batch:
                tried.add(invoice.id)
                renew_lease(connection.id, clock())
                booking = booking_for(invoice, connection)
                db.session.commit()  # nothing of ours held while Teamleader is asked
                outcome = forward_one(
                    invoice, booking, connection, exact, teamleader, store, existing, clock, accts
                )
                _count(run, booking, outcome)
                if booking.failures >= connection.alert_after and not booking.alerted:
                    _tell_admins(booking, invoice, clock())
                db.session.commit()
    except RateLimited as exc:
        # Nobody's fault: the document it met is left as it was, the job resumes at the reset.
        db.session.rollback()
        run.problem, limited = exc.waiting, exc
    except (ExactError, TeamleaderError) as exc:
        # Not this document's fault: Exact or Teamleader is down, or a token is gone.
        db.session.rollback()
        run.problem = _cut(f"The run stopped: {exc}", 500)
        log.warning("Exact Online run %s stopped: %s", run.id, exc)
    finally:
        run.calls = sum(exact.calls.values()) - calls_before
        run.finished_at = clock()
        db.session.commit()
        release_lease(connection.id)
    if limited is not None:
        raise limited
    return run


def _tell_admins(booking: ExactBooking, invoice: Invoice, now: datetime) -> None:
    """A document failed ``alert_after`` runs in a row: the admins' next digest tells of
    it, once (``alerted`` stays set; a booked document does not fail again)."""
    booking.alerted = True
    reason = booking.reason or "failed"
    operator_alerts.record(operator_alerts.EXACT_REFUSED, invoice.number, reason, PAGE, now=now)


def forward_one(
    invoice: Invoice,
    booking: ExactBooking,
    connection: ExactConnection,
    exact: ExactClient,
    teamleader: TeamleaderClient,
    store: DocumentStore,
    existing: dict[tuple[str, str], list[dict]],
    clock: Callable[[], datetime],
    run_accounts: accounts.RunAccounts | None = None,
) -> Outcome:
    """Book one document; a problem of this document only is recorded on its booking.

    Raises ``ExactError`` for problems that are not the document's (outage, rate limit after
    retries, refused token): the run stops and nothing about this document is counted.
    """
    waiting = _waiting_reason(invoice)
    if waiting:
        return _settle(booking, Outcome(BookingStatus.WAITING, reason=waiting), clock)
    try:
        document = _teamleader_document(teamleader, invoice)
    except (TeamleaderNotFound, TeamleaderRefused) as exc:
        # This document's problem (deleted in Teamleader, refused); an outage or a lost
        # Teamleader token is everyone's and stops the run like Exact's would.
        return _settle(booking, _failed(f"Teamleader: {exc}"), clock)
    _remember_term(connection, document)
    if connection.only_sent and not invoice.is_credit_note and not document.get("sent"):
        return _settle(
            booking, Outcome(BookingStatus.WAITING, reason="Not sent yet in Teamleader."), clock
        )
    db.session.commit()  # the term noted on the connection row: never held while Exact is asked
    try:
        journal = journal_for(invoice, connection)
        # Built (and the mappings checked) before spending a single call to Exact on it.
        body = entry_body(invoice, document, connection)
        account_id = accounts.account_for(invoice.customer, connection, exact, run_accounts)
        match = _already_booked(existing.get((journal, invoice.number)) or [], invoice, account_id)
        if match is not None:
            _booked(booking, match, journal, account_id, clock)
            return Outcome(BookingStatus.BOOKED, found=True)
        document_id = _attach_pdf(invoice, booking, connection, exact, store, account_id)
        body = with_links(body, account_id, document_id)
        # Record the attempt before posting: from here on, a lost answer means "search first".
        booking.journal, booking.account_id, booking.last_attempt_at = journal, account_id, clock()
        db.session.commit()
        entry = exact.create_sales_entry(body)
    except Unmapped as exc:
        return _settle(booking, _failed(str(exc)), clock)
    except ValidationFailed as exc:
        return _settle(booking, _failed(f"Exact Online refused it: {exc}"), clock)
    _booked(booking, entry, journal, account_id, clock)
    return Outcome(BookingStatus.BOOKED)


def candidates(
    connection: ExactConnection,
    *,
    exclude: set[int],
    only: Iterable[int] | None = None,
    limit: int = 100,
) -> list[Invoice]:
    """Documents to book, oldest first: not booked yet, within the settings' scope."""
    query = (
        db.select(Invoice)
        .outerjoin(ExactBooking, ExactBooking.invoice_id == Invoice.id)
        .where((ExactBooking.id.is_(None)) | (ExactBooking.status != BookingStatus.BOOKED))
        .order_by(Invoice.invoice_date, Invoice.id)
        .limit(limit)
    )
    if exclude:
        query = query.where(Invoice.id.not_in(exclude))
    if only is not None:
        query = query.where(Invoice.id.in_(list(only)))
    if connection.department_ids:
        query = query.where(Invoice.department_id.in_(connection.department_ids))
    if connection.start_date:
        query = query.where(Invoice.invoice_date >= connection.start_date)
    if not connection.sync_credit_notes:
        query = query.where(Invoice.kind == DocumentKind.INVOICE)
    return list(db.session.scalars(query))


def existing_entries(
    exact: ExactClient, connection: ExactConnection, batch: list[Invoice]
) -> dict[tuple[str, str], list[dict]]:
    """Entries already in Exact for these documents' references, by (journal, YourRef)."""
    refs: dict[str, set[str]] = defaultdict(set)
    for invoice in batch:
        try:
            refs[journal_for(invoice, connection)].add(invoice.number)
        except Unmapped:
            continue  # reported when the document comes up
    found: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for journal, numbers in refs.items():
        for entry in exact.sales_entries_by_ref(journal, sorted(numbers)):
            found[(journal, entry.get("YourRef") or "")].append(entry)
    return found


def booking_for(invoice: Invoice, connection: ExactConnection) -> ExactBooking:
    booking = invoice.exact_booking
    if booking is None:
        booking = ExactBooking(
            invoice=invoice,
            division=connection.division,
            status=BookingStatus.WAITING,
            failures=0,
            alerted=False,
        )
        db.session.add(booking)
    return booking


def claim_lease(connection_id: int, now: datetime) -> bool:
    """Take the connection's run lease if nobody holds a live one (one atomic UPDATE)."""
    return _set_lease(
        connection_id,
        now + LEASE,
        ExactConnection.status == ConnectionStatus.CONNECTED,
        (ExactConnection.run_lease_until.is_(None)) | (ExactConnection.run_lease_until < now),
    )


def renew_lease(connection_id: int, now: datetime) -> None:
    """Keep the lease for another ``LEASE``, committed at once (see the module's docstring)."""
    _set_lease(connection_id, now + LEASE)


def release_lease(connection_id: int) -> None:
    """Give the lease up, committed at once."""
    _set_lease(connection_id, None)


def _set_lease(connection_id: int, until: datetime | None, *conditions) -> bool:
    # Committed at once: the lease lives on the row a token refresh locks (module docstring).
    with db.engine.begin() as transaction:
        update = db.update(ExactConnection).where(ExactConnection.id == connection_id, *conditions)
        return transaction.execute(update.values(run_lease_until=until)).rowcount == 1


def prune_history(now: datetime) -> int:
    """Forget runs older than 7 days."""
    result = db.session.execute(
        db.delete(ExactSyncRun).where(ExactSyncRun.started_at < now - HISTORY)
    )
    db.session.commit()
    return result.rowcount


def _waiting_reason(invoice: Invoice) -> str | None:
    if not invoice.pdf_available:
        return "Waiting for the PDF from Teamleader."
    return None


def _teamleader_document(teamleader: TeamleaderClient, invoice: Invoice) -> dict:
    if invoice.kind == DocumentKind.CREDIT_NOTE:
        return teamleader.credit_notes_info(invoice.teamleader_id)
    return teamleader.invoices_info(invoice.teamleader_id)


def _already_booked(entries: list[dict], invoice: Invoice, account_id: str) -> dict | None:
    """An entry of this document among the journal's entries with its reference.

    Teamleader numbers can repeat across departments, so the customer must match too; the
    amount tells apart what is left (an entry booked by hand for another document)."""
    for entry in entries:
        if str(entry.get("Customer") or "").lower() != account_id.lower():
            continue
        amount = entry.get("AmountFC")
        if amount is None or abs(amount) == abs(invoice.total_incl_vat):
            entries.remove(entry)  # one entry proves one document, not two
            return entry
    return None


def _attach_pdf(
    invoice: Invoice,
    booking: ExactBooking,
    connection: ExactConnection,
    exact: ExactClient,
    store: DocumentStore,
    account_id: str,
) -> str:
    """The Exact document holding the PDF, made once: its id is committed before the entry
    is posted, so a retry reuses it instead of uploading the PDF again."""
    if booking.document_id is None:
        document = exact.create_document(
            subject=f"{invoice.number} {invoice.customer.name}"[:200],
            type=(connection.choices or {}).get("document_type", 10),
            account=account_id,
            date=invoice.invoice_date,
        )
        booking.document_id = document["ID"]
        db.session.commit()
    if booking.attachment_id is None:
        name = f"{invoice.number}.pdf".replace("/", "-").replace(" ", "")
        attachment = exact.attach(booking.document_id, name, store.get(invoice.pdf_key))
        booking.attachment_id = attachment["ID"]
        db.session.commit()
    return booking.document_id


def _booked(
    booking: ExactBooking, entry: dict, journal: str, account_id: str, clock: Callable[[], datetime]
) -> None:
    booking.status = BookingStatus.BOOKED
    booking.entry_id = str(entry["EntryID"])
    booking.entry_number = entry.get("EntryNumber")
    booking.journal = journal
    booking.account_id = account_id
    booking.booked_at = booking.last_attempt_at = clock()
    booking.failures = 0
    booking.reason = None


def _failed(reason: str) -> Outcome:
    return Outcome(BookingStatus.FAILED, reason=_cut(reason, REASON_MAX))


def _settle(booking: ExactBooking, outcome: Outcome, clock: Callable[[], datetime]) -> Outcome:
    booking.status = outcome.status
    booking.reason = outcome.reason
    if outcome.status == BookingStatus.FAILED:
        booking.failures += 1
        booking.last_attempt_at = clock()
    return outcome


def _count(run: ExactSyncRun, booking: ExactBooking, outcome: Outcome) -> None:
    if outcome.status == BookingStatus.BOOKED:
        if outcome.found:
            run.found += 1
        else:
            run.booked += 1
    elif outcome.status == BookingStatus.WAITING:
        run.waiting += 1
    else:
        run.failed += 1
        invoice = booking.invoice
        run.errors = [
            *run.errors,
            {"invoice_id": invoice.id, "number": invoice.number, "reason": outcome.reason},
        ]


def _remember_term(connection: ExactConnection, document: dict) -> None:
    """Offer a payment term met on a document for mapping, if the list lacks it."""
    key = term_key(document.get("payment_term"))
    if key:
        note_term(connection, key)


def _cut(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"
