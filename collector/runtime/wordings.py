"""Texts that operations write in English, shown to a person in their language.

Operations refuse in English (``Invalid``, ``Conflict``): the API and the CLI answer
programs in it. Jobs store their reasons in English (an import's skipped documents, a
timeline's events, a collection's reason), and what is stored stays as it was written. A
page shows such a text translated, in one of two ways:

- a ``Sentence`` says what it means: its msgid and its values as machine values (an
  amount with its currency, an ISO date, a known word, another sentence). Its
  ``english`` is what is stored for the API and the logs; kept next to it (``stored``),
  it is shown in any reader's language, each value rendered for the reader (money and
  dates as their locale writes them, words translated);
- a text stored without its sentence (written before, or where no place holds it) is
  matched against ``Wordings``: the msgids it may have been made from (``%(name)s`` where
  it carries a value), translated with the values it carried, each through the converter
  named for its placeholder, else translated itself when it is a known text.

A text not known is shown as it came: a page may show a text in English, never a wrong one.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from flask_babel import get_locale, gettext

from collector.core import formatting
from collector.core.errors import Conflict, Invalid

T = TypeVar("T")
PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")

# How a value matched inside a stored text is shown: a dict of its English words to their
# msgids, or a function that renders it.
ValueWords = Mapping[str, str] | Callable[[str], str]


def known(msgid: str) -> str:
    """Marks ``msgid`` for ``make translations`` and returns it unchanged (gettext's
    ``N_``, one of the names extraction reads; the views import it as ``_l``): it is
    translated only when a sentence or a matched text is shown. A sentence without values
    has no ``%%`` (gettext leaves it doubled)."""
    return msgid


N_ = known


# -- the values a sentence carries ------------------------------------------------------------


def money_value(amount: Decimal, currency: str) -> dict:
    """An amount inside a sentence, stored as text with its currency."""
    return {"amount": str(amount), "currency": currency}


def date_value(day: date) -> dict:
    """A business date inside a sentence, stored as an ISO date."""
    return {"date": day.isoformat()}


def instant_value(at: datetime) -> dict:
    """An instant inside a sentence, stored as ISO (aware, UTC)."""
    return {"instant": at.isoformat()}


def count_value(number: int) -> dict:
    """A whole number inside a sentence (a size in bytes), written with the reader's
    thousands separator ("12,345", "12.345", "12 345")."""
    return {"count": number}


def word(msgid: str, english: str | None = None) -> dict:
    """A known text inside a sentence (a state, a source, a reason code's meaning):
    stored in English, translated when shown. ``english`` is what the stored text says
    where that is not the msgid (a state's machine value, "PAID", read as "paid")."""
    return {"word": msgid} if english is None else {"word": msgid, "english": english}


def reader_locale() -> str | None:
    """The reader's locale; None (the default, English) in a job."""
    locale = get_locale()
    return str(locale) if locale else None


@dataclass(frozen=True)
class Sentence:
    """A text by what it means: a msgid and its values, English or in the reader's language."""

    msgid: str
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def english(self) -> str:
        """The sentence as it is stored and told to programs."""
        values = {name: _render(v, None) for name, v in self.values.items()}
        return self.msgid % values if values else self.msgid

    def shown(self) -> str:
        """The sentence in the reader's language, its values as the reader writes them."""
        locale = reader_locale()
        values = {name: _render(v, locale) for name, v in self.values.items()}
        return gettext(self.msgid, **values)

    @property
    def stored(self) -> dict:
        """The sentence as JSON, for a row's details (``from_stored`` reads it back)."""
        return {"msgid": self.msgid, "values": {n: _json(v) for n, v in self.values.items()}}

    @classmethod
    def from_stored(cls, data: Mapping) -> Sentence:
        """The sentence ``stored`` wrote; values that are sentences come back as such."""
        values = {n: _read(v) for n, v in dict(data.get("values") or {}).items()}
        return cls(str(data["msgid"]), values)

    def __str__(self) -> str:
        return self.english


def shown_value(value: Any) -> str:
    """One value of a sentence (a word, an amount, a sentence…) as the reader writes it."""
    return _render(value, reader_locale())


def says(msgid: str, **values: Any) -> Sentence:
    """The sentence ``msgid`` with ``values`` (plain text, ``money_value``, ``date_value``,
    ``word``, another ``Sentence``)."""
    return Sentence(msgid, values)


def english_of(text: str | Sentence) -> str:
    """What is stored of a text given as a sentence or already in English."""
    return text.english if isinstance(text, Sentence) else text


def _json(value: Any) -> Any:
    return value.stored if isinstance(value, Sentence) else value


def _read(value: Any) -> Any:
    if isinstance(value, Mapping) and "msgid" in value:
        return Sentence.from_stored(value)
    return value


def _render(value: Any, locale: str | None) -> str:
    """One value of a sentence as ``locale`` writes it (None: English, as stored)."""
    if isinstance(value, Sentence):
        return value.shown() if locale else value.english
    if not isinstance(value, Mapping):
        return "" if value is None else str(value)
    if "currency" in value:
        return formatting.money(Decimal(value["amount"]), value["currency"], locale=locale)
    if "date" in value:
        return formatting.format_date(date.fromisoformat(value["date"]), locale=locale)
    if "count" in value:
        number = int(value["count"])
        return formatting.number(number, locale=locale) if locale else f"{number:,}"
    if "instant" in value:
        instant = datetime.fromisoformat(value["instant"])
        return formatting.format_datetime(instant, locale=locale)
    if "word" in value:
        return gettext(value["word"]) if locale else value.get("english", value["word"])
    return str(value)


# -- texts stored without their sentence --------------------------------------------------------


class Wordings:
    """The English texts of some operations, as msgids; ``wordings(text)`` is ``text`` in
    the reader's language. ``values`` names how a placeholder's value is shown; any other
    value is translated too when it is a known text. ``shapes`` names the regular
    expression a placeholder's value must match (an amount), where any text would split a
    sentence in the wrong place."""

    def __init__(
        self,
        *msgids: str,
        values: Mapping[str, ValueWords] | None = None,
        shapes: Mapping[str, str] | None = None,
    ) -> None:
        self.patterns = [(msgid, _pattern(msgid, shapes or {})) for msgid in msgids]
        self.values = dict(values or {})

    def __call__(self, text: str | None) -> str:
        """``text`` translated, and the values it carries too ("%(reason)s What it imported
        stays…" around a known reason); "" for None."""
        if not text:
            return ""
        for msgid, pattern in self.patterns:
            if found := pattern.fullmatch(text):
                values = {name: self._value(name, v) for name, v in found.groupdict().items()}
                return gettext(msgid, **values)
        return text

    shown = __call__

    def __add__(self, other: Wordings) -> Wordings:
        """Both sets of texts, and both sets of value converters."""
        joined = Wordings(values={**self.values, **other.values})
        joined.patterns = self.patterns + other.patterns
        return joined

    def said(self, text: str | None, stored: Mapping | None) -> str:
        """A stored text in the reader's language: from its sentence when it was kept
        (``Sentence.stored``), else by matching ``text``, else ``text`` as it is."""
        if stored:
            try:
                return Sentence.from_stored(stored).shown()
            except (KeyError, TypeError, ValueError, InvalidOperation):
                pass  # a sentence that no longer reads: the text stored with it
        return self(text)

    def _value(self, name: str, value: str) -> str:
        words = self.values.get(name)
        if words is None:
            return self(value)
        if callable(words):
            return words(value)
        return gettext(words[value]) if value in words else value

    def refusals(self, operation: Callable[..., T]) -> Callable[..., T]:
        """``operation``, its ``Invalid`` and ``Conflict`` messages in the reader's
        language: for the shared helpers (``saved``, ``confirmed_change``) that show them."""

        @functools.wraps(operation)
        def translated(*args, **kwargs) -> T:
            try:
                return operation(*args, **kwargs)
            except Invalid as exc:
                errors = {name: [self(m) for m in texts] for name, texts in exc.errors.items()}
                raise Invalid(errors, str(exc)) from exc
            except Conflict as exc:
                raise Conflict(self(str(exc))) from exc

        return translated


# An amount as English writes it ("€1,250.25", "-€5.00", "US$3.00", "CHF 12.00").
MONEY_SHAPE = r"-?[^\d\s-]{1,4}\s?\d[\d,]*(?:\.\d+)?"
ENGLISH_MONEY = re.compile(r"(?P<sign>-?)(?P<symbol>[^\d\s-]+)\s?(?P<number>\d[\d,]*(?:\.\d+)?)")
SYMBOLS = {"€": "EUR", "$": "USD", "US$": "USD", "£": "GBP"}


def english_money(text: str) -> str:
    """An amount stored in English ("€544.50") as the reader writes it ("544,50 €");
    any other text as it is."""
    found = ENGLISH_MONEY.fullmatch(text.strip())
    currency = found and SYMBOLS.get(found["symbol"], found["symbol"])
    if not found or not re.fullmatch(r"[A-Z]{3}", currency):
        return text
    amount = Decimal(found["sign"] + found["number"].replace(",", ""))
    return formatting.money(amount, currency, locale=reader_locale())


# A whole number as English writes it ("12,345").
COUNT_SHAPE = r"\d{1,3}(?:,\d{3})*"


def english_count(text: str) -> str:
    """A whole number stored in English ("12,345") as the reader writes it ("12.345")."""
    if not re.fullmatch(COUNT_SHAPE, text):
        return text
    return formatting.number(int(text.replace(",", "")), locale=reader_locale())


def _pattern(msgid: str, shapes: Mapping[str, str]) -> re.Pattern:
    """The regular expression a stored text of ``msgid`` matches, a group per value (a
    value named twice must be the same text both times)."""
    parts, seen, start = [], set(), 0
    for found in PLACEHOLDER.finditer(msgid):
        parts.append(re.escape(msgid[start : found.start()]))
        name = found.group(1)
        if name is None:
            parts.append("%")
        elif name in seen:
            parts.append(f"(?P={name})")
        else:
            parts.append(f"(?P<{name}>{shapes.get(name, '.*?')})")
            seen.add(name)
        start = found.end()
    parts.append(re.escape(msgid[start:]))
    return re.compile("".join(parts), re.S)
