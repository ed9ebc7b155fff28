"""What a document's history says, in the reader's language: its timeline's events, its
payments' and its direct debits' reasons, and who did it.

Each domain writes these in English, from msgids it marks (``runtime.wordings``). A row
written with its sentence (``details["says"]``) is shown from it; an older row, or a
reason stored as text alone, is matched against the same msgids (``STORED``); any other
text is shown as it was written.
"""

from __future__ import annotations

import re
from datetime import datetime

from flask_babel import gettext

from collector.core import formatting
from collector.direct_debit import (
    bank_transactions,
    collection_outcomes,
    collection_runs,
    reason_codes,
)
from collector.direct_debit.wording import STATE_WORDS
from collector.documents import ledger, overpayments
from collector.documents.models import InvoiceEvent, InvoiceState
from collector.dunning import hand_offs
from collector.mail import wording as mail_wording
from collector.payments import wording as payments_wording
from collector.runtime.wordings import (
    COUNT_SHAPE,
    MONEY_SHAPE,
    N_,
    Wordings,
    english_count,
    english_money,
    reader_locale,
    says,
    shown_value,
    word,
)
from collector.teamleader import wording as teamleader_wording

# Who did it, as the reader names them; "user:<email>" is the email.
ACTORS = {
    "system": N_("the system"),
    "bank": N_("the bank"),
    "teamleader": "Teamleader",
    "provider": N_("the payment provider"),
    "exact": "Exact Online",
    "customer": N_("the customer"),
}
REVERSAL = re.compile(
    "(?P<what>{})(?: \\((?P<code>[^)]*)\\))?(?:: (?P<reason>.+))?".format(
        "|".join(re.escape(label) for label in ledger.REVERSAL_LABELS.values())
    ),
    re.S,
)


def actor_text(actor: str | None) -> str:
    """Who did it: "le système", "une tâche planifiée", "clé API ERP", a person's email."""
    actor = actor or ""
    if actor in ACTORS:
        return gettext(ACTORS[actor])
    kind, _, name = actor.partition(":")
    if kind == "user":
        return name
    if kind == "job":
        return gettext("a scheduled job")
    if kind == "api":
        return gettext("API key %(name)s", name=name)
    return actor


def event_text(event: InvoiceEvent) -> str:
    """An event's message in the reader's language."""
    return STORED.said(event.message, (event.details or {}).get("says"))


def reason_text(text: str | None) -> str:
    """A stored reason (a payment's, a collection's) in the reader's language."""
    return STORED(text)


def _reason(text: str) -> str:
    """A reason inside a sentence: a reason code's description, else any known text."""
    shown = reason_codes.shown_description(text)
    return shown if shown != text else STORED(text)


def _because(text: str) -> str:
    """Why money was taken back, as the ledger stored it ("Returned by the bank (AM04):
    insufficient funds"), said again from its parts; any other text as ``STORED`` says."""
    found = REVERSAL.fullmatch(text)
    if found is None:
        return STORED(text)
    what = word(found["what"])
    if found["code"]:
        what = says(ledger.WITH_CODE, what=what, code=found["code"])
    if found["reason"]:
        what = says(ledger.WITH_REASON, what=what, reason=word(found["reason"]))
    return shown_value(what)


def _day(text: str) -> str:
    """A date as English stored it ("3 Mar 2026", before "Mar 3, 2026") as the reader
    writes it."""
    for shape in ("%d %b %Y", "%b %d, %Y"):
        try:
            # A calendar date, no instant: no zone to attach.
            day = datetime.strptime(text, shape).date()  # noqa: DTZ007
        except ValueError:
            continue
        return formatting.format_date(day, locale=reader_locale())
    return text


def _as_given(text: str) -> str:
    """A value that came from outside (an address, an error, a number): as it came."""
    return text


# Values told as they came, never matched against the sentences (an upstream error
# ending in a full stop is not one of ours).
GIVEN = (
    "recipient",
    "email",
    "error",
    "name",
    "changes",
    "outcome",
    "status",
    "number",
    "note",
    "refund",
    "online",
    "at",
)

# Every sentence the history may hold, the specific ones first ("Archived: fully
# credited." before "Archived: %(reason)s"); a reason ended with a full stop last.
STORED = Wordings(
    *teamleader_wording.SENTENCES,
    *payments_wording.SENTENCES,
    *mail_wording.SENTENCES,
    *hand_offs.SENTENCES,
    *overpayments.SENTENCES,
    *ledger.SENTENCES,
    *(msgid for msgid, _ in collection_outcomes.REASONS.patterns),
    collection_runs.STARTED,
    *bank_transactions.PAYMENT_REASONS,
    bank_transactions.UNKNOWN_SENDER,
    *reason_codes.MEANINGS.values(),
    reason_codes.NO_CODE,
    reason_codes.UNKNOWN,
    ledger.ENDED,
    values={
        "amount": english_money,
        "payment": english_money,
        "credited": english_money,
        "due": english_money,
        "before": english_money,
        "size": english_count,
        "state": {state.value: STATE_WORDS[state.value] for state in InvoiceState},
        **dict.fromkeys(GIVEN, _as_given),
        "because": _because,
        "sentence": _because,
        "reason": _reason,
        "day": _day,
    },
    shapes={
        **dict.fromkeys(("amount", "payment", "credited", "due", "before"), MONEY_SHAPE),
        "size": COUNT_SHAPE,
    },
)
