"""Bank files in: tell a camt.053, a camt.054, a pain.002, a CODA and an MT940 apart and
read them.

``parse`` is the one entry point. The kind is told by the content, never the file's name
(``detect``): XML goes by its root element's namespace
(``urn:iso:std:iso:20022:tech:xsd:camt.053.001.xx`` …; any version is read, since the
readers go by element names, see ``camt`` and ``pain002``), a CODA file by its header
record, an MT940 by its field tags. CODA and MT940 statements are read into the camt
records, so they are applied exactly as a camt.053 is. ``parse`` refuses, with a message
for a person, what is none of them — an empty or oversized file, malformed XML, XML with
a DTD or entities (an XML bomb, an external entity), another ISO 20022 message, a PDF or
a CSV — naming the formats it reads.
"""

from __future__ import annotations

import hashlib
import re

from stdnum.be import ogm_vcs

from collector.direct_debit.files import camt, coda, detect, iso20022, mt940, pain002
from collector.direct_debit.files.camt import CamtEntry, CamtFile, CamtTransaction
from collector.direct_debit.files.iso20022 import N_, BankFileError, load
from collector.direct_debit.files.pain002 import StatusReport

# Bank files of a few thousand entries are a few MB; 20 MB leaves room and still keeps a
# request (and the parsed tree) to a size a web worker holds comfortably.
MAX_BYTES = 20 * 1024 * 1024
NAMESPACE = re.compile(
    r"urn:iso:std:iso:20022:tech:xsd:(?P<kind>camt\.053|camt\.054|pain\.002)\.001\.(?P<v>\d{2})"
)

# A Belgian structured communication in free text: +++123/4567/89012+++ (or with ***),
# 123/4567/89012, or the 12 digits alone; the check digits decide whether it is one.
OGM_IN_TEXT = re.compile(
    r"[+*]{3}\s*(\d{3})\s*/\s*(\d{4})\s*/\s*(\d{5})\s*[+*]{3}"
    r"|(?<![\d/])(\d{3})/(\d{4})/(\d{5})(?![\d/])"
    r"|(?<!\d)(\d{12})(?!\d)"
)

EMPTY = N_("The file is empty.")
TOO_LARGE = N_(
    "The file is %(size)s MB; bank files up to %(most)s MB are accepted. Ask the bank for one "
    "per day."
)
OTHER_XML = N_(
    "This is not a camt.053, camt.054 or pain.002 file, nor a CODA or MT940 one (its root "
    "element is %(root)s). Bank files read: %(formats)s."
)
# The refusals a person gets while the file is read, in English (``bank_files`` says them
# in the reader's language).
REFUSALS = (
    EMPTY,
    TOO_LARGE,
    OTHER_XML,
    detect.NOT_A_BANK_FILE,
    iso20022.XML_BOMB,
    iso20022.BAD_ENCODING,
    iso20022.NOT_XML,
)

__all__ = [
    "MAX_BYTES",
    "REFUSALS",
    "BankFileError",
    "CamtFile",
    "StatusReport",
    "parse",
    "references",
    "transfer_fingerprint",
]


def parse(content: bytes) -> CamtFile | StatusReport:
    """The records of a bank file; raises BankFileError with the reason it is refused."""
    if not content or not content.strip():
        raise BankFileError(EMPTY)
    if len(content) > MAX_BYTES:
        size = round(len(content) / 1024 / 1024, 1)
        raise BankFileError(TOO_LARGE % {"size": size, "most": MAX_BYTES // 1024 // 1024})
    kind = detect.kind_of(content)
    if kind == detect.CODA:
        return coda.read(detect.text_of(content))
    if kind == detect.MT940:
        return mt940.read(detect.text_of(content))
    namespace, root = load(content)
    match = NAMESPACE.fullmatch(namespace)
    if root.tag != "Document" or match is None:
        found = f"{{{namespace}}}{root.tag}" if namespace else root.tag
        raise BankFileError(OTHER_XML % {"root": found[:120], "formats": detect.formats()})
    kind = match["kind"]
    version = f"{kind}.001.{match['v']}"
    if kind == "pain.002":
        return pain002.read(version, root)
    return camt.read(kind, version, root)


def references(tx: CamtTransaction) -> list[str]:
    """The references a transfer may be matched by, best first: its structured
    reference, then the valid structured communications found in its free text."""
    found = [tx.reference] if tx.reference else []
    for match in OGM_IN_TEXT.finditer(tx.remittance or ""):
        digits = "".join(group for group in match.groups() if group)
        if ogm_vcs.is_valid(digits) and digits not in found:
            found.append(digits)
    return found


def transfer_fingerprint(entry: CamtEntry, tx: CamtTransaction) -> str:
    """A name for a received transfer that a camt.054 and the camt.053 repeating it agree
    on.

    It is made of what the payment itself carries — its value date, amount, currency,
    references, the payer's IBAN and end-to-end id — and not of what the bank assigns
    per report: its own reference (``AcctSvcrRef``) and entry numbers differ between a
    notification and the statement at several banks. Two transfers alike in all of
    these on one day (the same customer paying the same invoice twice) are told apart
    within a file by the caller, which numbers repeats.
    """
    parts = [
        str(entry.value_date or entry.booked_on or ""),
        f"{tx.amount:.2f}",
        tx.currency,
        "".join((tx.reference or "").split()).upper(),
        " ".join((tx.remittance or "").split()),
        tx.counterparty_iban or "",
        tx.end_to_end_id or "",
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]
