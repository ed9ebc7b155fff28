"""A failed direct debit handled by its reason (``return_rules``): presented again, its
mandate ended, a note for the team, or simply back to collect.

Called by ``collection_outcomes`` in the transaction that records the failure, so the
step and the failure are written together. What it makes owed to the customer (the
re-presentation's pre-notification, the mail about an unusable mandate) is found from
the collection's ``next_step`` by the mail domain (``mail.debit_notices``), never sent
from here.
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext

from collector.core.columns import utcnow
from collector.direct_debit import reason_codes, return_rules
from collector.direct_debit.models import (
    Collection,
    CollectionStatus,
    MandateStatus,
    ReturnAction,
)
from collector.direct_debit.wording import N_, date_text, english
from collector.documents import timeline
from collector.dunning.models import Note
from collector.extensions import db
from collector.runtime.wordings import Sentence, date_value, says

# Told on the document's timeline, stored in English, shown in the reader's language.
RETRYING = N_(
    "Direct debit %(collection)s failed (%(reason)s): retry %(number)s of %(limit)s, "
    "presented again from %(day)s once the customer is told of the new debit."
)
NO_RETRY_LEFT = N_(
    "Direct debit %(collection)s failed (%(reason)s) after %(number)s retries: back to "
    "collect, no retry left."
)
MANDATE_ENDED = N_(
    "Direct debit %(collection)s failed (%(reason)s): mandate %(mandate)s can no longer be "
    "used. The customer is mailed a payment link and asked for a new mandate."
)
REFUND_NOTE = N_(
    "Direct debit %(collection)s failed (%(reason)s): back to collect. The customer claimed "
    "the refund: ask them why before collecting again."
)
BACK_TO_COLLECT = N_(
    "Direct debit %(collection)s failed (%(reason)s): back to collect; send the invitation "
    "again to announce a new debit."
)
# The reason kept on a mandate ended this way (in English, as every status reason).
UNUSABLE_REASON = N_("Unusable: the bank answered %(reason)s for direct debit %(collection)s")
SENTENCES = (RETRYING, NO_RETRY_LEFT, MANDATE_ENDED, REFUND_NOTE, BACK_TO_COLLECT)
# Collections that came back from the bank: their step says what followed.
CAME_BACK = (CollectionStatus.REJECTED, CollectionStatus.RETURNED)


def handle(collection: Collection, code: str | None, actor: str, today: date) -> ReturnAction:
    """Decide and record what follows the failure of ``collection`` (just closed as
    rejected or returned with ``code``): its step, its timeline event, and for an
    unusable mandate the mandate ended. Writes in the caller's transaction."""
    invoice = collection.invoice
    action = return_rules.action_for(invoice.profile_id, code)
    values = {"collection": collection.end_to_end_id, "reason": reason_codes.described(code)}
    if action == ReturnAction.RETRY:
        action, sentence = _retry(collection, today, values)
    elif action == ReturnAction.MANDATE_UNUSABLE:
        sentence = _end_mandate(collection, code, values)
    elif action == ReturnAction.REFUND_CLAIMED:
        sentence = says(REFUND_NOTE, **values)
        db.session.add(Note(invoice_id=invoice.id, text=sentence.english, author=actor[:128]))
    else:
        sentence = says(BACK_TO_COLLECT, **values)
    collection.next_step = action
    timeline.record(
        invoice,
        timeline.DEBIT_FAILED,
        sentence,
        actor=actor,
        code=(code or "").upper() or None,
        step=action.value,
        attempt=collection.attempt,
    )
    return action


def _retry(collection: Collection, today: date, values: dict) -> tuple[ReturnAction, Sentence]:
    profile = collection.invoice.profile
    limit = profile.debit_retries if profile is not None else 0
    done = collection.attempt - 1
    if done >= limit:
        return ReturnAction.BACK_TO_COLLECT, says(NO_RETRY_LEFT, number=done, **values)
    collection.retry_on = today + timedelta(days=profile.debit_retry_days)
    sentence = says(
        RETRYING, number=done + 1, limit=limit, day=date_value(collection.retry_on), **values
    )
    return ReturnAction.RETRY, sentence


def _end_mandate(collection: Collection, code: str | None, values: dict) -> Sentence:
    mandate = collection.mandate
    if mandate.status == MandateStatus.ACTIVE:
        mandate.status = MandateStatus.REVOKED
        mandate.status_reason = english(
            UNUSABLE_REASON, reason=reason_codes.describe(code), collection=collection.end_to_end_id
        )[:300]
        mandate.status_changed_at = utcnow()
    return says(MANDATE_ENDED, mandate=mandate.reference, **values)


# -- what the next collection is ----------------------------------------------------------


def last_came_back(invoice_id: int) -> Collection | None:
    """The document's latest collection that came back from the bank."""
    return db.session.scalars(
        sa.select(Collection)
        .where(Collection.invoice_id == invoice_id, Collection.status.in_(CAME_BACK))
        .order_by(Collection.collection_date.desc(), Collection.id.desc())
        .limit(1)
    ).first()


def next_attempt(invoice_id: int) -> int:
    """Which presentation the document's next collection is: one more than a failed one
    that is being retried, else a first."""
    last = last_came_back(invoice_id)
    if last is not None and last.next_step == ReturnAction.RETRY:
        return last.attempt + 1
    return 1


def retry_day(invoice_id: int) -> date | None:
    """The first day a document being retried may be collected again, if it is."""
    last = last_came_back(invoice_id)
    return last.retry_on if last is not None and last.next_step == ReturnAction.RETRY else None


def latest_failures(invoice_ids: list[int]) -> dict[int, Collection]:
    """Per document among ``invoice_ids``: its latest collection that came back (one
    query, for a list's page)."""
    if not invoice_ids:
        return {}
    latest = (
        sa.select(sa.func.max(Collection.id))
        .where(Collection.invoice_id.in_(invoice_ids), Collection.status.in_(CAME_BACK))
        .group_by(Collection.invoice_id)
    )
    rows = db.session.scalars(sa.select(Collection).where(Collection.id.in_(latest)))
    return {row.invoice_id: row for row in rows}


def label(collection: Collection) -> str:
    """A list's badge for a failed debit, in the reader's language: "AM04 · retry from
    12 Dec 2026", "AC04 · mandate unusable"."""
    code = collection.reason_code or "—"
    step = collection.next_step or ReturnAction.BACK_TO_COLLECT
    if step == ReturnAction.RETRY and collection.retry_on is not None:
        day = date_text(collection.retry_on)
        return gettext("%(code)s · retry from %(day)s", code=code, day=day)
    return f"{code} · {gettext(return_rules.ACTION_WORDS[step])}"


def title(collection: Collection) -> str:
    """What the badge says on hover: the reason's meaning and the retries so far."""
    return gettext(
        "%(meaning)s; retries so far: %(count)s",
        meaning=reason_codes.shown(collection.reason_code),
        count=collection.attempt - 1,
    )
