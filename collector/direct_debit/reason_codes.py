"""SEPA direct-debit reason codes: what each means in plain words, and what a code says
about money that had already settled.

The table is reference §2.6 (EPC R-transaction codes as Twikey and Lemonway summarise
them), plus the regulatory and registration codes EPC's reason-code guidance adds
(AG02, BE05, CNOR, DNOR, ED05, RR01–RR04), which banks use in pain.002 rejects.
"""

from __future__ import annotations

from collector.documents.models import PaymentKind

MEANINGS = {
    "AC01": "incorrect account number",
    "AC04": "account closed",
    "AC06": "account blocked for direct debits",
    "AC13": "the debtor's account is a consumer account",
    "AG01": "direct debits are forbidden on this account",
    "AG02": "invalid bank operation code",
    "AM04": "insufficient funds",
    "AM05": "duplicate collection",
    "BE05": "creditor identifier not recognised",
    "CNOR": "the creditor's bank is not registered for this scheme",
    "DNOR": "the debtor's bank is not registered for this scheme",
    "ED05": "settlement failed",
    "FF01": "invalid file format",
    "MD01": "no valid mandate",
    "MD02": "mandate information missing or wrong",
    "MD06": "refund requested by the debtor",
    "MD07": "the debtor is deceased",
    "MS02": "refused by the debtor",
    "MS03": "no reason given by the bank",
    "PY01": "bank not reachable",
    "RC01": "bank identifier incorrect",
    "RR01": "the debtor's account or identification is missing",
    "RR02": "the debtor's name or address is missing",
    "RR03": "the creditor's name or address is missing",
    "RR04": "regulatory reason",
    "SL01": "specific service of the debtor's bank (creditor blocked or amount limit)",
}
UNKNOWN = "no description known for this code"
NO_CODE = "no reason given"

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
    """The code with its meaning, as people read it: "AM04 insufficient funds"."""
    if not code:
        return NO_CODE
    return f"{code.upper()} {meaning(code)}"


def reversal_kind(code: str | None) -> PaymentKind:
    """What taking back a settled collection with ``code`` is: a refund or a return."""
    return PaymentKind.REFUND if (code or "").upper() in REFUND_CODES else PaymentKind.RETURN
