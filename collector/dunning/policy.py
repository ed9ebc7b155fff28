"""The one rule on chasing and debiting: whether a document may be reminded (or get any
later dunning step) and whether it may be put in a collection run.

Debiting stops for a hold that stands: on the document, or on its customer (disputed,
a promise to pay up to its date, a payment plan). Chasing stops for the same holds, and
also while a direct debit for the document is announced or under way (the customer is
about to pay without doing anything), and, when the reminders are queued, until today's
bank statement is in (a transfer may already have come in).

"Today's bank statement is in" is read from the ``bank_file`` rows: a statement (camt.053,
camt.054, CODA, MT940) uploaded on today's local date. The wait applies only to a company
that uploads statements at all (one in the last ``STATEMENT_HABIT`` days), only on
weekdays (banks publish none at the weekend) and only until ``STATEMENT_WAIT_UNTIL``
local time: a company that never uploads them, or forgot today, is not left without
reminders. A pain.002 says nothing about transfers and does not count.

Each rule has two forms that say the same: per document (``chase_blocker``,
``debit_blocker``: the reason as a ``Sentence``, None when allowed) for a page or a mail
about to go, and as SQL over ``Invoice`` (``chase_allowed``, ``debit_allowed``) for the
reminder run and collection runs over thousands of documents in one query.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from collector.core import clock
from collector.direct_debit.models import (
    BankFile,
    BankFileKind,
    Collection,
    CollectionStatus,
    Mandate,
    MandateStatus,
)
from collector.documents.models import DocumentMail, DocumentMailStatus, Invoice
from collector.dunning import wording
from collector.dunning.models import Hold, HoldReason
from collector.extensions import db
from collector.runtime.wordings import Sentence, date_value, says, word

STATEMENT_KINDS = (
    BankFileKind.CAMT053,
    BankFileKind.CAMT054,
    BankFileKind.CODA,
    BankFileKind.MT940,
)
STATEMENT_HABIT = timedelta(days=7)
STATEMENT_WAIT_UNTIL = time(12, 0)
CAME_BACK = (CollectionStatus.REJECTED, CollectionStatus.RETURNED)


# -- holds ------------------------------------------------------------------------------


def standing(today: date) -> sa.ColumnElement[bool]:
    """Holds that pause chasing and debiting on ``today``."""
    return Hold.lifted_at.is_(None) & (Hold.until.is_(None) | (Hold.until >= today))


def held(today: date) -> sa.ColumnElement[bool]:
    """Documents (``Invoice``) under a standing hold, their own or their customer's."""
    on_document = sa.exists().where(Hold.invoice_id == Invoice.id, standing(today))
    on_customer = sa.exists().where(Hold.customer_id == Invoice.customer_id, standing(today))
    return on_document | on_customer


def holds_on(invoice_ids, today: date) -> dict[int, Hold]:
    """The standing hold of each of ``invoice_ids`` (a list or a SELECT of ids) that has
    one: the document's own before its customer's, the latest placed first."""
    found: dict[int, Hold] = {}
    for subject in (Hold.invoice_id == Invoice.id, Hold.customer_id == Invoice.customer_id):
        rows = db.session.execute(
            sa.select(Invoice.id, Hold)
            .join(Hold, subject)
            .where(Invoice.id.in_(invoice_ids), standing(today))
            .order_by(Hold.placed_at.desc(), Hold.id.desc())
        )
        for invoice_id, hold in rows:
            found.setdefault(invoice_id, hold)
    return found


def hold_text(hold: Hold) -> Sentence:
    """Why a hold keeps its document from being chased or debited."""
    if hold.reason == HoldReason.PROMISE:
        return says(wording.HELD_PROMISE, until=date_value(hold.until))
    reason = word(wording.REASONS[hold.reason])
    since = date_value(clock.local_date(hold.placed_at))
    if hold.customer_id is not None:
        return says(wording.CUSTOMER_HELD, name=hold.customer.name, reason=reason, day=since)
    return says(wording.HELD, reason=reason, day=since)


# -- debiting ---------------------------------------------------------------------------


def debit_allowed(today: date) -> sa.ColumnElement[bool]:
    """Documents (``Invoice``) a collection run may take, as far as dunning is concerned."""
    return ~held(today)


def debit_blocker(invoice: Invoice, today: date) -> Sentence | None:
    """Why ``invoice`` may not be debited on ``today``; None when it may."""
    hold = holds_on([invoice.id], today).get(invoice.id)
    return hold_text(hold) if hold is not None else None


# -- chasing ----------------------------------------------------------------------------


def debit_under_way() -> sa.ColumnElement[bool]:
    """Documents with a collection in a file the bank has not answered yet."""
    return sa.exists().where(
        Collection.invoice_id == Invoice.id, Collection.status == CollectionStatus.PENDING
    )


def debit_announced(today: date) -> sa.ColumnElement[bool]:
    """Documents a sent mail announced a debit for, on ``today`` or later, on a mandate
    still active, which no collection that came back has used up."""
    came_back = sa.exists().where(
        Collection.invoice_id == Invoice.id,
        Collection.status.in_(CAME_BACK),
        Collection.collection_date >= DocumentMail.direct_debit_on,
    )
    return sa.exists().where(
        DocumentMail.invoice_id == Invoice.id,
        DocumentMail.status == DocumentMailStatus.SENT,
        DocumentMail.direct_debit_on >= today,
        Mandate.id == DocumentMail.direct_debit_mandate_id,
        Mandate.status == MandateStatus.ACTIVE,
        ~came_back,
    )


def chase_allowed(today: date, now: datetime | None = None) -> sa.ColumnElement[bool]:
    """Documents (``Invoice``) that may be reminded now; with ``now``, the wait for
    today's bank statement applies too (as when reminders are queued)."""
    if now is not None and waiting_for_bank(now) is not None:
        return sa.false()
    return debit_allowed(today) & ~debit_under_way() & ~debit_announced(today)


def chase_blocker(invoice: Invoice, today: date, now: datetime | None = None) -> Sentence | None:
    """Why ``invoice`` may not be reminded on ``today``; None when it may. With ``now``,
    the wait for today's bank statement applies too."""
    blocker = debit_blocker(invoice, today)
    if blocker is not None:
        return blocker
    if _applies(invoice, debit_under_way()):
        return says(wording.DEBIT_UNDER_WAY)
    if _applies(invoice, debit_announced(today)):
        day = db.session.scalar(
            sa.select(sa.func.max(DocumentMail.direct_debit_on)).where(
                DocumentMail.invoice_id == invoice.id,
                DocumentMail.status == DocumentMailStatus.SENT,
            )
        )
        return says(wording.DEBIT_ANNOUNCED, day=date_value(day))
    return waiting_for_bank(now) if now is not None else None


def waiting_for_bank(now: datetime) -> Sentence | None:
    """Whether reminders wait for today's bank statement at ``now`` (see the module)."""
    local = clock.local(now)
    today = local.date()
    if local.time() >= STATEMENT_WAIT_UNTIL or today.weekday() >= 5:
        return None
    last = db.session.scalar(
        sa.select(sa.func.max(BankFile.created_at)).where(BankFile.kind.in_(STATEMENT_KINDS))
    )
    if last is None:
        return None  # this company does not upload statements
    last_day = clock.local_date(last)
    if last_day >= today or last_day < today - STATEMENT_HABIT:
        return None
    return says(wording.WAITING_FOR_BANK)


def _applies(invoice: Invoice, clause: sa.ColumnElement[bool]) -> bool:
    """Whether the set-based ``clause`` holds for this one document: one rule, two forms."""
    return (
        db.session.scalar(sa.select(Invoice.id).where(Invoice.id == invoice.id, clause)) is not None
    )
