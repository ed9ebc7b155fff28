"""Sentences the direct-debit code stores for a person to read later — a mandate upload's
row problems, why a collection failed, a bank transaction's note — in every reader's
language.

They are stored in English, as they always were: a row is read by people of every
language, and a job that writes one has no reader to ask. A page translates a stored
sentence when it shows it, by matching it against the English sentence it was made from
and putting the same values into the reader's translation (``runtime.wordings``, the one
mechanism every domain uses). A text no sentence matches (a reason someone typed, a row
older than its sentence) is shown as it is. Here: the direct-debit vocabulary, the states
a sentence names, and how its money and dates are written for the reader.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_babel import gettext

from collector.core import formatting
from collector.runtime.wordings import N_, reader_locale

# The states a sentence names (of collections, runs, mandates, bank transactions and
# documents), as the status badges say them.
STATE_WORDS = {
    "active": N_("active"),
    "revoked": N_("revoked"),
    "lapsed": N_("lapsed"),
    "created": N_("created"),
    "sent": N_("sent"),
    "settled": N_("settled"),
    "rejected": N_("rejected"),
    "returned": N_("returned"),
    "cancelled": N_("cancelled"),
    "pending": N_("pending"),
    "matched": N_("matched"),
    "unmatched": N_("unmatched"),
    "dismissed": N_("dismissed"),
    "double_payment": N_("a possible double payment"),
    "refunded": N_("refunded"),
    "kept": N_("kept"),
    "checking": N_("checking"),
    "invalid": N_("invalid"),
    "ready": N_("ready"),
    "committing": N_("saving"),
    "committed": N_("saved"),
    "failed": N_("failed"),
    "PAID": N_("paid"),
    "ARCHIVED": N_("archived"),
    "BOOKED": N_("open"),
    "EXPIRED": N_("overdue"),
    "PENDING": N_("being collected"),
}


def state_word(value: str) -> str:
    """A state inside a sentence, in the reader's language ("paid" for PAID)."""
    return gettext(STATE_WORDS[value]) if value in STATE_WORDS else value


def english(msgid: str, **values) -> str:
    """``msgid`` with its ``%(name)s`` filled in, in English: the text that is stored."""
    return msgid % values


def money_text(amount: Decimal, currency: str) -> str:
    """An amount inside a sentence, as the person at hand writes it ("€ 201,00" for
    nl-BE); the default locale in a job."""
    return formatting.money(amount, currency, locale=reader_locale())


def date_text(day: date) -> str:
    """A date inside a sentence, as the person at hand writes it ("3 mrt 2026")."""
    return formatting.format_date(day, locale=reader_locale())
