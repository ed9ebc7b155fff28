"""The records of a CODA file (Febelfin "Coded statement of account", version 2) at
their positions, into statements and movements, with the file's own checks: the trailer
counts its records and adds up debits and credits, and the balances must follow from the
movements, so a file cut short or garbled is refused rather than half-read. ``coda``
makes camt records of them.

Positions below are the specification's, less one (Python counts from 0).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from collector.direct_debit.files.camt import real
from collector.direct_debit.files.iso20022 import BankFileError

RECORD = 128
# Transaction types (first digit of the transaction code) of a total whose details
# follow as separate payments, and of those details.
TOTALS = frozenset("12")
DETAILS = frozenset("567")
IBAN_LIKE = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{8,30}")


@dataclass
class Movement:
    """One movement being read from its 2.1, 2.2 and 2.3 records."""

    sequence: str
    detail: str
    type_: str
    credit: bool
    amount: Decimal
    value_date: date | None
    booked_on: date | None
    bank_reference: str | None
    code: str
    communication: str
    line: int
    end_to_end_id: str | None = None
    return_reason: str | None = None
    counterparty_iban: str | None = None
    counterparty_name: str | None = None
    details: list[Movement] = field(default_factory=list)


@dataclass
class Statement:
    """One account's statement: the records from a header (0) to its trailer (9)."""

    line: int
    account_iban: str | None = None
    account_other: str | None = None
    currency: str = "EUR"
    number: str = ""
    old_balance: Decimal = Decimal("0.00")
    new_balance: Decimal | None = None
    records: int = 0
    last: Movement | None = None  # the movement its 2.2 and 2.3 records continue
    movements: list[Movement] = field(default_factory=list)


def statements(content: str) -> list[Statement]:
    """The statements of a CODA file; raises BankFileError saying which line is wrong."""
    found: list[Statement] = []
    current: Statement | None = None
    # Split on line feeds only: str.splitlines() would also split on characters a
    # Windows-1252 text may hold.
    for number, raw in enumerate(content.split("\n"), 1):
        line = _record(raw, number)
        if line is None:
            continue
        kind = line[0]
        if kind == "0":
            _header(line, number)
            current = Statement(number)
            continue
        if current is None:
            raise BankFileError(f"Line {number} of the CODA file comes before its header (0).")
        if kind in "1238":
            current.records += 1
        if kind == "1":
            _old_balance(current, line, number)
        elif kind == "2":
            _movement(current, line, number)
        elif kind == "8":
            current.new_balance = amount(line[41:57], number)
        elif kind == "9":
            _trailer(current, line, number)
            found.append(current)
            current = None
        elif kind not in "34":
            raise BankFileError(f"Line {number} is not a CODA record (type {kind!r}).")
    if current is not None:
        raise BankFileError(
            "The CODA file ends without its trailer (record 9): it was cut off, and nothing "
            "was applied. Download it again from the bank."
        )
    if not found:
        raise BankFileError("This CODA file holds no statement.")
    return found


def _record(raw: str, number: int) -> str | None:
    """A line padded to 128 characters (some tools strip trailing blanks), or None."""
    line = raw.rstrip("\r\n\x1a")
    if not line.strip():
        return None
    if len(line) > RECORD:
        raise BankFileError(
            f"Line {number} of the CODA file is {len(line)} characters long; CODA records "
            f"are {RECORD}. The file may have been changed by another program."
        )
    return line.ljust(RECORD)


def _header(line: str, number: int) -> None:
    if line[127] != "2":
        raise BankFileError(
            f"The CODA file (line {number}) is version {line[127].strip() or '1'}; version 2 "
            "is read. Ask the bank for CODA 2."
        )


def _old_balance(statement: Statement, line: str, number: int) -> None:
    structure, account = line[1], line[5:42]
    statement.number = line[2:5]
    statement.old_balance = amount(line[42:58], number)
    if structure in "23":  # a Belgian (2) or foreign (3) IBAN, then the currency
        statement.account_iban = "".join(account[:34].split()).upper()
        statement.currency = account[34:37]
    elif structure == "0":  # a Belgian account number, 12 digits
        statement.account_iban = _belgian_iban(account[:12])
        statement.account_other = account[:12]
        statement.currency = account[13:16]
    elif structure == "1":  # a foreign account number
        statement.account_other = account[:34].strip()
        statement.currency = account[34:37]
    else:
        raise BankFileError(f"Line {number}: unknown account structure {structure!r}.")
    if not re.fullmatch(r"[A-Z]{3}", statement.currency):
        raise BankFileError(f"Line {number}: the account's currency is not given.")


def _movement(statement: Statement, line: str, number: int) -> None:
    article = line[1]
    sequence, detail = line[2:6], line[6:10]
    if article == "1":
        movement = Movement(
            sequence=sequence,
            detail=detail,
            type_=line[53],
            credit=line[31] == "0",
            amount=abs(amount(line[31:47], number)),
            value_date=day(line[47:53], number),
            booked_on=day(line[115:121], number),
            bank_reference=line[10:31].strip() or None,
            code=line[53:61],
            communication=line[61:115],
            line=number,
        )
        _place(statement, movement)
        return
    movement = statement.last
    if movement is None or (movement.sequence, movement.detail) != (sequence, detail):
        raise BankFileError(
            f"Line {number}: record 2.{article} does not follow the movement it continues."
        )
    if article == "2":
        movement.communication += line[10:63]
        movement.end_to_end_id = real(line[63:98].strip() or None)
        movement.return_reason = line[113:117].strip() or None
    elif article == "3":
        movement.counterparty_iban = _iban(line[10:47])
        movement.counterparty_name = line[47:82].strip() or None
        movement.communication += line[82:125]
    else:
        raise BankFileError(f"Line {number}: unknown movement record 2.{article}.")


def _place(statement: Statement, movement: Movement) -> None:
    """A total's details go under it; the details of a single movement (its charges,
    its gross amount) are no payments of their own and are only read past."""
    statement.last = movement
    if movement.type_ not in DETAILS | {"8", "9"}:
        statement.movements.append(movement)
        return
    parent = statement.movements[-1] if statement.movements else None
    if parent is None or parent.sequence != movement.sequence:
        raise BankFileError(f"Line {movement.line}: a detail movement without its total.")
    if movement.type_ in DETAILS and parent.type_ in TOTALS:
        parent.details.append(movement)


def _trailer(statement: Statement, line: str, number: int) -> None:
    debit, credit = amount("0" + line[22:37], number), amount("0" + line[37:52], number)
    counted = int(line[16:22]) if line[16:22].isdigit() else -1
    moved_in = sum((m.amount for m in statement.movements if m.credit), Decimal("0.00"))
    moved_out = sum((m.amount for m in statement.movements if not m.credit), Decimal("0.00"))
    if counted != statement.records or (moved_in, moved_out) != (credit, debit):
        raise BankFileError(
            f"The CODA statement ending at line {number} announces {counted} records, "
            f"{credit} in and {debit} out, but holds {statement.records} records, "
            f"{moved_in} in and {moved_out} out: it is incomplete or damaged, and nothing "
            "was applied."
        )
    new = statement.new_balance
    if new is not None and new - statement.old_balance != moved_in - moved_out:
        raise BankFileError(
            f"The CODA statement ending at line {number} goes from {statement.old_balance} "
            f"to {new}, which its movements do not explain; nothing was applied."
        )


# -- fields --------------------------------------------------------------------------------


def amount(field_: str, number: int) -> Decimal:
    """A sign (0 credit, 1 debit) and 15 digits of which the last three are decimals."""
    sign, digits = field_[:1], field_[1:]
    if sign not in ("0", "1") or not digits.isdigit():
        raise BankFileError(f"Line {number}: {field_.strip()!r} is not a CODA amount.")
    value = (Decimal(digits) / 1000).quantize(Decimal("0.001"))
    value = value.quantize(Decimal("0.01")) if value == value.quantize(Decimal("0.01")) else value
    return -value if sign == "1" else value


def day(field_: str, number: int) -> date | None:
    if field_ in ("000000", "      "):
        return None  # "not known", which the specification allows for a value date
    try:
        return datetime.strptime(field_, "%d%m%y").date()  # noqa: DTZ007 — a calendar day
    except ValueError:
        raise BankFileError(f"Line {number}: {field_!r} is not a date (DDMMYY).") from None


def _iban(field_: str) -> str | None:
    compact = "".join(field_.split()).upper()
    match = IBAN_LIKE.match(compact)
    if match is None:
        return None
    # The field is the IBAN followed by the currency: try without it first.
    for candidate in (match[0][:-3], match[0]):
        try:
            return str(IBAN(candidate).compact)
        except SchwiftyException:
            continue
    return None


def _belgian_iban(account: str) -> str | None:
    """The IBAN of a 12-digit Belgian account number (what old CODA files name): the
    country's check digits are ISO 7064 MOD 97-10 over the number and "BE00"."""
    if not account.isdigit():
        return None
    check = 98 - int(account + "111400") % 97
    try:
        return str(IBAN(f"BE{check:02d}{account}").compact)
    except SchwiftyException:
        return None
