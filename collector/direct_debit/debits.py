"""Direct-debit facts shared by mandates, mails, collection runs and bank files.

- Which collections make a mandate "used" (its next collection RCUR, not FRST), and
  when it was last collected (it lapses 36 months later).
- The TARGET2 calendar: the days SEPA collections settle on.
- The pre-notification: which documents are to be debited, the day a mail announces
  for them, and what the latest sent mail announced (a run never collects before it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from dateutil.easter import easter

from collector.accounts import entities
from collector.accounts.creditor import grouped
from collector.accounts.models import Creditor
from collector.direct_debit import failed_debits, mandates
from collector.direct_debit.models import Collection, CollectionStatus, Mandate, MandateStatus
from collector.documents.models import (
    DocumentKind,
    DocumentMail,
    DocumentMailStatus,
    Invoice,
    InvoiceState,
)
from collector.dunning import policy
from collector.extensions import db

# A rejected collection moved no money, so the next one is a first again (FRST); a
# returned one did settle, so the mandate stays used. A cancelled one never left us.
USES_MANDATE = (CollectionStatus.PENDING, CollectionStatus.SETTLED, CollectionStatus.RETURNED)
# The 36 months count from the last collection, even one rejected or returned (§2.3).
DATES_MANDATE = (*USES_MANDATE, CollectionStatus.REJECTED)


def refresh_use(mandate: Mandate) -> None:
    """Set ``used`` and ``last_collected_on`` from the mandate's collections."""
    db.session.flush()
    used = db.session.scalar(
        sa.select(sa.func.count(Collection.id)).where(
            Collection.mandate_id == mandate.id, Collection.status.in_(USES_MANDATE)
        )
    )
    last = db.session.scalar(
        sa.select(sa.func.max(Collection.collection_date)).where(
            Collection.mandate_id == mandate.id, Collection.status.in_(DATES_MANDATE)
        )
    )
    mandate.used = bool(used)
    mandate.last_collected_on = last


def is_business_day(day: date) -> bool:
    """A TARGET2 settlement day: not a weekend, New Year, Good Friday, Easter Monday,
    1 May, Christmas or 26 December."""
    if day.weekday() >= 5:
        return False
    if (day.month, day.day) in {(1, 1), (5, 1), (12, 25), (12, 26)}:
        return False
    sunday = easter(day.year)
    return day not in {sunday - timedelta(days=2), sunday + timedelta(days=1)}


def next_business_day(day: date) -> date:
    """``day`` itself if it is a business day, else the first one after it."""
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def earliest_collection(today: date) -> date:
    """The first day a collection made today can settle: Core collections reach the
    debtor's bank up to D-1 (Rulebook 9, reference §2.2), so the next business day
    after today's."""
    return next_business_day(today + timedelta(days=1))


# -- pre-notification --------------------------------------------------------------------

# Documents a new debit may be announced for; a PENDING one restates its collection.
DEBITABLE = (InvoiceState.BOOKED, InvoiceState.EXPIRED)
CURRENCY = "EUR"  # SEPA direct debits are in euro only


@dataclass(frozen=True)
class Announcement:
    """A debit a mail announced (or will): the day and the mandate, and how much."""

    on: date
    mandate: Mandate
    amount: Decimal | None = None


def current_creditor() -> Creditor | None:
    """The company default creditor, if there is one; unlike ``creditor.current`` it never
    writes."""
    return entities.creditor_of(None)


def creditor_for(invoice: Invoice) -> Creditor | None:
    """Who collects ``invoice``: its company entity's creditor, else the company default."""
    return entities.creditor_of(invoice.department_id)


def debit_mandate(invoice: Invoice, creditor: Creditor | None) -> Mandate | None:
    """The mandate that will collect ``invoice``, or None when it is not to be debited:
    an invoice in euro with money due, on a profile that allows direct debit, whose
    customer signed an active mandate on that profile, for a creditor that can collect."""
    if invoice.kind != DocumentKind.INVOICE or invoice.currency != CURRENCY:
        return None
    if invoice.amount_due <= 0 or invoice.profile is None:
        return None
    if not invoice.profile.allow_direct_debit or creditor is None or not creditor.can_collect:
        return None
    return mandates.active_mandate(invoice.customer_id, invoice.profile_id)


def pending_collection(invoice: Invoice) -> Collection | None:
    """The collection under way for ``invoice`` (in a file, no answer from the bank yet)."""
    return db.session.scalars(
        sa.select(Collection)
        .where(Collection.invoice_id == invoice.id, Collection.status == CollectionStatus.PENDING)
        .order_by(Collection.id.desc())
        .limit(1)
    ).first()


def planned_debit(invoice: Invoice, notice_day: date) -> Announcement | None:
    """What a mail composed on ``notice_day`` announces for ``invoice``: the collection
    under way, or the next debit; None when the document is not to be debited."""
    pending = pending_collection(invoice)
    if pending is not None:
        return Announcement(pending.collection_date, pending.mandate, pending.amount)
    if invoice.state not in DEBITABLE:
        return None
    # A held document is not to be debited: no mail announces a debit for it.
    if policy.debit_blocker(invoice, notice_day) is not None:
        return None
    creditor = creditor_for(invoice)
    mandate = debit_mandate(invoice, creditor)
    if mandate is None:
        return None
    on = _debit_day(invoice, mandate, creditor.prenotification_days, notice_day)
    return Announcement(on, mandate, invoice.amount_due)


def _debit_day(invoice: Invoice, mandate: Mandate, notice_days: int, notice_day: date) -> date:
    # A day announced before on the same mandate still stands while a run can collect on
    # it: each mail then tells the customer the same day, and a reminder never pushes the
    # debit back by another notice period.
    # A collection that came back (rejected, returned, refunded) used up the day it was
    # announced for: collecting again needs a new notice period.
    came_back_day = came_back([invoice.id]).get(invoice.id, date.min)
    previous = announcement(invoice)
    standing = previous and previous.mandate.id == mandate.id and previous.on > came_back_day
    if standing and previous.on >= earliest_collection(notice_day):
        return previous.on
    not_before = max(notice_day + timedelta(days=notice_days), came_back_day + timedelta(days=1))
    # A debit being retried (``failed_debits``) waits for its delay as well.
    not_before = max(not_before, failed_debits.retry_day(invoice.id) or date.min)
    return next_business_day(max(invoice.due_date or invoice.invoice_date, not_before))


def came_back(invoice_ids) -> dict[int, date]:
    """The day of each document's last collection that came back from the bank (rejected,
    returned, refunded); ``invoice_ids`` is a list or a SELECT of ids. A debit announced
    for that day or before was that collection's: collecting again needs a new notice."""
    rows = db.session.execute(
        sa.select(Collection.invoice_id, sa.func.max(Collection.collection_date))
        .where(Collection.invoice_id.in_(invoice_ids))
        .where(Collection.status.in_([CollectionStatus.REJECTED, CollectionStatus.RETURNED]))
        .group_by(Collection.invoice_id)
    )
    return dict(rows.all())


def announcements(invoice_ids) -> dict[int, Announcement]:
    """What the latest sent mail of each document announced, when its mandate is still
    active; ``invoice_ids`` is a list or a SELECT of ids."""
    rows = db.session.execute(
        sa.select(
            DocumentMail.invoice_id,
            DocumentMail.direct_debit_on,
            DocumentMail.direct_debit_mandate_id,
            DocumentMail.direct_debit_amount,
        )
        .where(DocumentMail.invoice_id.in_(invoice_ids))
        .where(DocumentMail.status == DocumentMailStatus.SENT)
        .where(DocumentMail.direct_debit_on.isnot(None))
        .order_by(DocumentMail.sent_at, DocumentMail.id)
    ).all()
    latest = {row.invoice_id: row for row in rows}  # the last sent wins
    mandate_ids = {row.direct_debit_mandate_id for row in latest.values()} - {None}
    mandates = db.session.scalars(
        sa.select(Mandate).where(
            Mandate.id.in_(mandate_ids), Mandate.status == MandateStatus.ACTIVE
        )
    )
    active = {m.id: m for m in mandates}
    return {
        invoice_id: Announcement(
            row.direct_debit_on, active[row.direct_debit_mandate_id], row.direct_debit_amount
        )
        for invoice_id, row in latest.items()
        if row.direct_debit_mandate_id in active
    }


def announcement(invoice: Invoice) -> Announcement | None:
    """The debit the latest sent mail of ``invoice`` announced, if its mandate is active."""
    return announcements([invoice.id]).get(invoice.id)


def announced(invoice: Invoice) -> date | None:
    """The day the latest sent mail announced for ``invoice`` (mandate still active)."""
    found = announcement(invoice)
    return found.on if found else None


def masked_iban(iban: str) -> str:
    """``BE68539007547034`` → ``BE** **** **** 7034``: enough for the debtor to know the
    account, too little to copy it."""
    compact = iban.replace(" ", "").upper()
    return grouped(compact[:2] + "*" * (len(compact) - 6) + compact[-4:])
