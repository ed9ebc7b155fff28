"""EU VAT numbers: the compact form we match and send, and why a typed number is not valid.

People type VAT numbers any way they like (``BE 0477.472.701``, ``be0477472701``) and
Teamleader keeps them as typed, often without the country prefix (``0477.472.701``). We
keep what was typed for display and derive one compact, checked form (``BE0477472701``)
with python-stdnum's ``eu.vat``; only that form is used to find or create a customer
elsewhere. A number that is not valid is not an error: it is a warning a person resolves.
"""

from __future__ import annotations

from dataclasses import dataclass

from stdnum.eu import vat as eu_vat
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)
from stdnum.util import clean

# Why a number is not valid, as stored on the customer (short codes; the words are below).
PROBLEMS: dict[type[ValidationError], str] = {
    InvalidComponent: "country",
    InvalidFormat: "format",
    InvalidLength: "length",
    InvalidChecksum: "checksum",
}
PROBLEM_TEXT = {
    "country": "it has no EU country prefix (and the customer's country does not complete it)",
    "format": "it has characters that do not belong in this country's VAT numbers",
    "length": "it has too many or too few characters for this country",
    "checksum": "its check digits do not match (a typing error?)",
    "invalid": "it is not a valid EU VAT number",
}
SEPARATORS = " -./,"
# Greece's VAT numbers carry EL, not its ISO code GR (VIES does the same).
VAT_PREFIX = {"GR": "EL"}


@dataclass(frozen=True)
class Vat:
    """A typed VAT number read: its compact form when valid, else the problem's code."""

    compact: str | None = None
    problem: str | None = None


def read_vat(typed: str | None, country: str | None = None) -> Vat:
    """The compact form of ``typed`` (``BE0477472701``), or why it is not valid.

    A number without a country prefix is read with ``country`` (the customer's ISO code)
    put in front, and kept only if that makes it valid. Blank gives ``Vat()``.
    """
    text = (typed or "").strip()
    if not text:
        return Vat()
    try:
        return Vat(compact=_canonical(eu_vat.validate(text)))
    except ValidationError as exc:
        problem = exc
    prefix = vat_prefix(country)
    if prefix and not _has_prefix(text):
        try:
            return Vat(compact=_canonical(eu_vat.validate(prefix + text)))
        except ValidationError as exc:
            problem = exc  # more telling than "no prefix": the number itself is wrong
    return Vat(problem=PROBLEMS.get(type(problem), "invalid"))


def problem_text(problem: str | None) -> str | None:
    """Words for a stored problem code (None for none)."""
    if problem is None:
        return None
    return PROBLEM_TEXT.get(problem, PROBLEM_TEXT["invalid"])


def vat_prefix(country: str | None) -> str | None:
    """The VAT prefix of an EU country's ISO code (``GR`` → ``EL``), None outside the EU."""
    code = (country or "").strip().upper()
    if len(code) != 2 or code.lower() not in eu_vat.MEMBER_STATES:
        return None
    return VAT_PREFIX.get(code, code)


def without_prefix(compact: str) -> str:
    """``BE0477472701`` → ``0477472701``: the national part of a compact number."""
    return compact[2:]


def _has_prefix(text: str) -> bool:
    head = clean(text, SEPARATORS).upper()[:2]
    return head in ("EL", "EU") or head.lower() in eu_vat.MEMBER_STATES


def _canonical(compact: str) -> str:
    return VAT_PREFIX.get(compact[:2], compact[:2]) + compact[2:]
