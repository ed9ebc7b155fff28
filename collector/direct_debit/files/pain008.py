"""The pain.008 file of a collection run: SEPA direct debits for the creditor's bank.

Pure: collections in, bytes out, no Flask and no database. sepaxml writes the XML and
validates it against the ISO schema it bundles; the schema does not know the SEPA
character set (reference §2.3), so identifiers are checked here and free texts (names,
remittance) are transliterated and stripped to it before they go in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sepaxml
from defusedxml import ElementTree
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from sepaxml.validation import ValidationError
from text_unidecode import unidecode

from collector.core.money import CENT

VERSIONS = ("pain.008.001.02", "pain.008.001.08")
SCHEMES = ("CORE", "B2B")
SEQUENCE_TYPES = ("FRST", "RCUR", "FNAL", "OOFF")
MAX_ID = 35
MAX_NAME = 70
MAX_REMITTANCE = 140
# What an InstdAmt of ActiveOrHistoricCurrencyAndAmount may hold in a SEPA file.
MAX_AMOUNT = Decimal("999999999.99")

# The EPC's basic Latin set, the only characters every SEPA bank must accept.
SEPA_TEXT = re.compile(r"[A-Za-z0-9/\-?:().,'+ ]*")
# Identifiers (end-to-end id, mandate reference) also may not start or end with "/" nor
# hold "//" (EPC implementation guidelines).
_BAD_SLASHES = re.compile(r"^/|/$|//")
# Common signs that have a readable SEPA stand-in; anything else outside the set is a space.
_STAND_INS = str.maketrans({"&": "+", "_": "-", "@": "(at)", "\u20ac": "EUR"})
_OUTSIDE = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")
_SPACES = re.compile(r"\s+")


class SepaFileError(ValueError):
    """The collections cannot be written as a valid pain.008; the message says why."""


@dataclass(frozen=True)
class CreditorAccount:
    """Who collects: the name, account and SEPA creditor identifier in the file."""

    name: str
    iban: str
    bic: str | None
    identifier: str


@dataclass(frozen=True)
class Debit:
    """One direct debit: one document collected on one mandate."""

    end_to_end_id: str
    amount: Decimal
    sequence_type: str
    collection_date: date
    mandate_reference: str
    mandate_signed_on: date
    debtor_name: str
    iban: str
    bic: str | None
    remittance: str


@dataclass(frozen=True)
class PainFile:
    """The file, its GrpHdr/MsgId, and the PmtInfId of each end-to-end id's batch."""

    content: bytes
    message_id: str
    payment_info_ids: dict[str, str]


def build(
    creditor: CreditorAccount,
    debits: Sequence[Debit],
    *,
    scheme: str = "CORE",
    version: str = VERSIONS[0],
    currency: str = "EUR",
) -> PainFile:
    """A schema-valid pain.008 collecting ``debits``, one batch per (sequence type, date)."""
    _check_file(creditor, debits, scheme, version)
    config = {
        "name": sepa_text(creditor.name, MAX_NAME, "the creditor's name"),
        "IBAN": _iban(creditor.iban, "the creditor's IBAN"),
        "batch": True,
        "creditor_id": creditor.identifier,
        "currency": currency,
        "instrument": scheme,
    }
    if creditor.bic:
        config["BIC"] = creditor.bic
    document = sepaxml.SepaDD(config, schema=version, clean=False)
    for debit in debits:
        document.add_payment(_payment(debit))
    try:
        content = document.export(validate=True)
    except ValidationError as exc:
        raise SepaFileError(f"The pain.008 does not match its schema: {exc.__cause__}") from exc
    return _read_back(content, version, [d.end_to_end_id for d in debits])


def cents(amount: Decimal) -> int:
    """``Decimal("12.34")`` → 1234, exactly; anything but a positive amount in cents is
    refused."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise SepaFileError(f"An amount is a Decimal, not {amount!r}.")
    if amount <= 0 or amount > MAX_AMOUNT or amount != amount.quantize(CENT):
        raise SepaFileError(f"{amount} is not an amount a direct debit can collect.")
    return int(amount.quantize(CENT).scaleb(2))


def is_sepa_text(text: str) -> bool:
    """Whether ``text`` holds only characters of the SEPA set."""
    return SEPA_TEXT.fullmatch(text) is not None


def is_sepa_id(text: str | None) -> bool:
    """Whether ``text`` can be a SEPA identifier: 1–35 characters of the SEPA set, no
    leading, trailing or double slash."""
    return (
        bool(text)
        and len(text) <= MAX_ID
        and is_sepa_text(text)
        and text.strip() == text
        and not _BAD_SLASHES.search(text)
    )


def sepa_text(text: str, limit: int, what: str = "a text") -> str:
    """``text`` transliterated to the SEPA set ("Müller & Zoon" → "Muller + Zoon") and cut
    to ``limit``; refused when nothing readable is left."""
    plain = _OUTSIDE.sub(" ", unidecode((text or "").translate(_STAND_INS)))
    cleaned = _SPACES.sub(" ", plain).strip()[:limit].rstrip()
    if not cleaned:
        raise SepaFileError(f"{what.capitalize()} has nothing a SEPA file can carry: {text!r}.")
    return cleaned


def _check_file(creditor, debits, scheme, version) -> None:
    if version not in VERSIONS:
        raise SepaFileError(f"sepaxml writes {', '.join(VERSIONS)}, not {version!r}.")
    if scheme not in SCHEMES:
        raise SepaFileError(f"The scheme is CORE or B2B, not {scheme!r}.")
    if version == "pain.008.001.02" and not creditor.bic:
        raise SepaFileError("A pain.008.001.02 file names the creditor's BIC: fill it in.")
    if not is_sepa_id(creditor.identifier):
        raise SepaFileError(f"The creditor identifier {creditor.identifier!r} is not valid.")
    if not debits:
        raise SepaFileError("A pain.008 holds at least one direct debit.")
    seen: set[str] = set()
    for debit in debits:
        _check_debit(debit)
        if debit.end_to_end_id in seen:
            raise SepaFileError(f"The end-to-end id {debit.end_to_end_id} is used twice.")
        seen.add(debit.end_to_end_id)


def _check_debit(debit: Debit) -> None:
    if not is_sepa_id(debit.end_to_end_id):
        raise SepaFileError(
            f"The end-to-end id {debit.end_to_end_id!r} is not 1–35 characters of the SEPA set."
        )
    if not is_sepa_id(debit.mandate_reference):
        raise SepaFileError(
            f"The mandate reference {debit.mandate_reference!r} is not 1–35 characters of "
            "the SEPA set."
        )
    if debit.sequence_type not in SEQUENCE_TYPES:
        raise SepaFileError(f"{debit.sequence_type!r} is not a sequence type.")


def _payment(debit: Debit) -> dict:
    payment = {
        "name": sepa_text(debit.debtor_name, MAX_NAME, f"the debtor of {debit.end_to_end_id}"),
        "IBAN": _iban(debit.iban, f"the account of {debit.end_to_end_id}"),
        "amount": cents(debit.amount),
        "type": debit.sequence_type,
        "collection_date": debit.collection_date,
        "mandate_id": debit.mandate_reference,
        "mandate_date": debit.mandate_signed_on,
        "description": sepa_text(debit.remittance, MAX_REMITTANCE, "the remittance"),
        "endtoend_id": debit.end_to_end_id,
    }
    if debit.bic:
        payment["BIC"] = debit.bic
    return payment


def _iban(value: str, what: str) -> str:
    try:
        return IBAN(value).compact
    except SchwiftyException as exc:
        raise SepaFileError(f"{what.capitalize()} is not a valid IBAN: {exc}") from exc


def _read_back(content: bytes, version: str, end_to_end_ids: list[str]) -> PainFile:
    """The ids sepaxml chose (message, batches), read from the file it wrote."""
    ns = {"p": f"urn:iso:std:iso:20022:tech:xsd:{version}"}
    root = ElementTree.fromstring(content)
    message_id = root.findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:MsgId", namespaces=ns)
    batches: dict[str, str] = {}
    for batch in root.iterfind("p:CstmrDrctDbtInitn/p:PmtInf", ns):
        batch_id = batch.findtext("p:PmtInfId", namespaces=ns)
        for e2e in batch.iterfind("p:DrctDbtTxInf/p:PmtId/p:EndToEndId", ns):
            batches[e2e.text] = batch_id
    if not message_id or sorted(batches) != sorted(end_to_end_ids):
        raise SepaFileError("The written pain.008 does not hold the direct debits asked for.")
    return PainFile(content=content, message_id=message_id, payment_info_ids=batches)
