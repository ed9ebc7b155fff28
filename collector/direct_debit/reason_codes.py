"""SEPA direct-debit reason codes: what each means in plain words, and what a code says
about money that had already settled. The meanings are stored in English (in a collection's
reason, a payment's) and translated when a page shows them.

The table is reference §2.6 (EPC R-transaction codes as Twikey and Lemonway summarise
them), plus the regulatory and registration codes EPC's reason-code guidance adds
(AG02, BE05, CNOR, DNOR, ED05, RR01–RR04), which banks use in pain.002 rejects.
"""

from __future__ import annotations

from flask_babel import gettext

from collector.direct_debit.wording import N_
from collector.documents.models import PaymentKind
from collector.runtime.wordings import Sentence, says, word

MEANINGS = {
    "AC01": N_("incorrect account number"),
    "AC04": N_("account closed"),
    "AC06": N_("account blocked for direct debits"),
    "AC13": N_("the debtor's account is a consumer account"),
    "AG01": N_("direct debits are forbidden on this account"),
    "AG02": N_("invalid bank operation code"),
    "AM04": N_("insufficient funds"),
    "AM05": N_("duplicate collection"),
    "BE05": N_("creditor identifier not recognised"),
    "CNOR": N_("the creditor's bank is not registered for this scheme"),
    "DNOR": N_("the debtor's bank is not registered for this scheme"),
    "ED05": N_("settlement failed"),
    "FF01": N_("invalid file format"),
    "MD01": N_("no valid mandate"),
    "MD02": N_("mandate information missing or wrong"),
    "MD06": N_("refund requested by the debtor"),
    "MD07": N_("the debtor is deceased"),
    "MS02": N_("refused by the debtor"),
    "MS03": N_("no reason given by the bank"),
    "PY01": N_("bank not reachable"),
    "RC01": N_("bank identifier incorrect"),
    "RR01": N_("the debtor's account or identification is missing"),
    "RR02": N_("the debtor's name or address is missing"),
    "RR03": N_("the creditor's name or address is missing"),
    "RR04": N_("regulatory reason"),
    "SL01": N_("specific service of the debtor's bank (creditor blocked or amount limit)"),
}
UNKNOWN = N_("no description known for this code")
DESCRIBED = N_("%(code)s %(meaning)s")  # "AM04 insufficient funds"
NO_CODE = N_("no reason given")

# After settlement, these codes are the debtor taking the money back (reference §2.5):
# MD06 within 8 weeks, no questions asked; MD01 within 13 months, as unauthorised.
# Every other code after settlement is the debtor's bank returning it.
REFUND_CODES = frozenset({"MD06", "MD01"})


def meaning(code: str | None) -> str:
    """The plain meaning of ``code``: "insufficient funds" for AM04."""
    if not code:
        return NO_CODE
    return MEANINGS.get(code.upper(), UNKNOWN)


def describe(code: str | None) -> str:
    """The code with its meaning, as stored for people to read: "AM04 insufficient funds"."""
    if not code:
        return NO_CODE
    return f"{code.upper()} {meaning(code)}"


def described(code: str | None) -> dict | Sentence:
    """``describe`` as a sentence's value, shown in the reader's language."""
    if not code:
        return word(NO_CODE)
    return says(DESCRIBED, code=code.upper(), meaning=word(meaning(code)))


def shown(code: str | None) -> str:
    """``describe`` in the reader's language, for a page: "AM04 fonds insuffisants"."""
    if not code:
        return gettext(NO_CODE)
    return f"{code.upper()} {gettext(meaning(code))}"


def shown_description(text: str) -> str:
    """A description ``describe`` stored (inside a collection's reason, a note) in the
    reader's language; any other text as it is."""
    if text == NO_CODE:
        return gettext(NO_CODE)
    code = text.partition(" ")[0]
    return shown(code) if text == describe(code) else text


def reversal_kind(code: str | None) -> PaymentKind:
    """What taking back a settled collection with ``code`` is: a refund or a return."""
    return PaymentKind.REFUND if (code or "").upper() in REFUND_CODES else PaymentKind.RETURN
