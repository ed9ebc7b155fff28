"""How money, dates and times read to a person: one module for pages, mails and messages.

Built on Babel (CLDR), so "€ 1.250,25" in Dutch, "1 250,25 €" in French and "€1,250.25"
in English come from the locale, not from code here. Every function takes the locale, so
the UI can move from one default to the user's own language by changing what it passes.
Instants are shown as the company's wall-clock time (``core.clock``); storage stays UTC.
Machine formats (the API, CSV values, SEPA files) do not come through here. No Flask.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel import units as babel_units

from collector.core import clock

# A bare language means the region our readers are in: Belgian Dutch and French (the
# Netherlands ask for "nl-NL" by name), and euro-area English (en_IE), whose dates run
# day-month-year ("1 Mar 2026") where CLDR's plain "en" is American ("Mar 1, 2026").
REGIONS = {"nl": "nl_BE", "fr": "fr_BE", "en": "en_IE"}
# What the finance UI speaks until each user picks a language.
DEFAULT_LOCALE = "en"

# The relative phrases, per language; "{days}" is Babel's "12 days" / "12 dagen" / "12 jours".
PHRASES = {
    "en": {"overdue": "{days} overdue", "today": "due today", "ahead": "due in {days}"},
    "nl": {"overdue": "{days} te laat", "today": "vervalt vandaag", "ahead": "vervalt over {days}"},
    "fr": {
        "overdue": "en retard de {days}",
        "today": "échéance aujourd’hui",
        "ahead": "échéance dans {days}",
    },
}


@functools.cache
def locale_of(tag: str | None) -> Locale:
    """The Babel locale for "nl-BE", "fr_BE", "nl", "EN" or None (the default); ValueError
    naming the tag when Babel does not know it."""
    text = (tag or DEFAULT_LOCALE).strip().replace("-", "_")
    language, _, region = text.partition("_")
    name = f"{language.lower()}_{region.upper()}" if region else REGIONS.get(language.lower())
    try:
        return Locale.parse(name or language.lower())
    except (UnknownLocaleError, ValueError):
        raise ValueError(f"Unknown locale: {tag!r}.") from None


def money(amount: Decimal | int | None, currency: str = "EUR", *, locale: str | None = None) -> str:
    """An amount as the locale writes it: nl-BE "€ 1.250,25", fr-BE "1 250,25 €", en
    "€1,250.25"; the sign kept, "" for None. Floats are refused: money is Decimal."""
    if amount is None:
        return ""
    if isinstance(amount, float):
        raise TypeError("money must be Decimal, not float")
    return babel_numbers.format_currency(Decimal(amount), currency, locale=locale_of(locale))


def number(value: int | Decimal, *, locale: str | None = None) -> str:
    """A number with the locale's separators: "12,345", "12.345", "12 345"; "0,5"."""
    return babel_numbers.format_decimal(value, locale=locale_of(locale))


def signed(amount: Decimal | None, credit_note: bool) -> Decimal | None:
    """The amount as a finance reader counts it: a credit note's amounts are negative."""
    if amount is None or not credit_note:
        return amount
    return -abs(amount)


def format_date(value: date | None, *, locale: str | None = None) -> str:
    """A business date, medium length: "1 Mar 2026", "1 mrt 2026", "1 mars 2026"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        raise TypeError("an instant is shown with format_datetime, in the company's zone")
    return babel_dates.format_date(value, format="medium", locale=locale_of(locale))


def long_date(value: date, *, locale: str | None = None) -> str:
    """A date written out, as letters do: "1 March 2026", "1 maart 2026", "1er mars 2026"."""
    where = locale_of(locale)
    text = babel_dates.format_date(value, format="long", locale=where)
    # French writes the first of the month as an ordinal: "1er mars", where CLDR gives "1 mars".
    if where.language == "fr" and value.day == 1:
        text = text.replace("1", "1er", 1)
    return text


def format_datetime(instant: datetime | None, *, locale: str | None = None) -> str:
    """An instant (aware, stored in UTC) as the company's wall-clock time, in the locale's
    order: "29 Mar 2026, 03:30". Naive datetimes are refused, as by ``clock.local``."""
    if instant is None:
        return ""
    where = locale_of(locale)
    local = clock.local(instant)
    day = babel_dates.format_date(local.date(), format="medium", locale=where)
    # A naive time: already converted above, so Babel must not move it again.
    hour = babel_dates.format_time(local.time(), format="short", locale=where)
    return str(babel_dates.get_datetime_format("medium", locale=where)).format(hour, day)


def days_overdue(due: date | None, today: date | None = None) -> int | None:
    """Days past ``due`` (negative: days still to go), counted in business dates; None
    without a due date."""
    if due is None:
        return None
    return ((today or clock.local_today()) - due).days


def overdue_phrase(
    due: date | None, today: date | None = None, *, locale: str | None = None
) -> str:
    """Where a due date stands: "12 days overdue", "due today", "due in 3 days"; "" for None."""
    days = days_overdue(due, today)
    if days is None:
        return ""
    where = locale_of(locale)
    texts = PHRASES.get(where.language, PHRASES["en"])
    if days == 0:
        return texts["today"]
    count = babel_units.format_unit(abs(days), "duration-day", length="long", locale=where)
    return texts["overdue" if days > 0 else "ahead"].format(days=count)
