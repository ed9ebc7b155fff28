"""What kind of bank file an upload is, told by its content (never its name: banks and
people name files anything), and a refusal naming the formats we read for the rest, in
the language of the person uploading it (``bank_files`` translates it)."""

from __future__ import annotations

import re

from collector.direct_debit.files.iso20022 import N_, BankFileError

XML, CODA, MT940 = "xml", "coda", "mt940"
# What the product reads, for people: the README lists the same.
FORMATS = (
    N_("camt.053 and camt.054 (ISO 20022, version .001.02 and later)"),
    N_("pain.002 (ISO 20022)"),
    N_("CODA version 2 (Febelfin)"),
    N_("MT940 (SWIFT)"),
)

BOM = b"\xef\xbb\xbf"
# A CODA header record: "0", four zeros, the creation date (DDMMYY), the bank's id.
CODA_HEADER = re.compile(r"0{5}\d{6}[0-9 ]{3}")
MT_TAG = re.compile(r"^:(20|25|28C?|34F|6[02][FM]|61|86):", re.MULTILINE)
# Files people upload by mistake, by their first bytes, to say what they are.
OTHER_KINDS = (
    (b"%PDF", N_("a PDF document (a statement to read, not a bank file)")),
    (b"PK\x03\x04", N_("a ZIP archive or an Excel workbook; unzip a CODA or camt archive first")),
    (b"\xd0\xcf\x11\xe0", N_("an old Excel or Word document")),
    (b"OFXHEADER", N_("an OFX (Money/Quicken) export")),
)
MT942 = N_("an MT942 interim report, whose bookings may still change; upload the MT940")
BINARY = N_("a binary file")
SPREADSHEET = N_("a CSV or spreadsheet export")
UNKNOWN = N_("text in no bank format we know")
# What a refused file is, as the refusal names it.
WHATS = (*(what for _magic, what in OTHER_KINDS), MT942, BINARY, SPREADSHEET, UNKNOWN)
NOT_A_BANK_FILE = N_(
    "This is not a camt.053, camt.054 or pain.002 file, nor a CODA or MT940 one: it is "
    "%(what)s. Bank files read: %(formats)s."
)


def kind_of(content: bytes) -> str:
    """XML, CODA or MT940 for what we read; BankFileError naming what we read else."""
    head = content.lstrip(BOM + b" \t\r\n")[:4096]
    if head.startswith(b"<"):
        return XML  # camt, pain.002 or other XML: the namespace decides (``reading``)
    for magic, what in OTHER_KINDS:
        if head.startswith(magic):
            raise refusal(what)
    first = text_of(head).lstrip().split("\n", 1)[0].rstrip("\r")
    if CODA_HEADER.match(first):
        return CODA
    tags = {m[1] for m in MT_TAG.finditer(text_of(content))}
    opening = {"60F", "60M"} & tags
    if {"20", "25", "34F"} <= tags and not opening:
        # An MT942 also lists :61: bookings, but ones that may still change or vanish.
        raise refusal(MT942)
    if {"20", "25"} <= tags and (opening or "61" in tags):
        return MT940
    if b"\x00" in head:
        raise refusal(BINARY)
    if re.match(r"[^\n]*[;,\t][^\n]*[;,\t]", first):
        raise refusal(SPREADSHEET)
    raise refusal(UNKNOWN)


def refusal(what: str) -> BankFileError:
    """The refusal of a file that is ``what``, listing the formats we read."""
    return BankFileError(NOT_A_BANK_FILE % {"what": what, "formats": formats()})


def formats() -> str:
    """The formats we read, for a person: the README lists the same."""
    return "; ".join(FORMATS)


def text_of(content: bytes) -> str:
    """A text bank file decoded: UTF-8 when it is, else Windows-1252 (what Belgian and
    Dutch banks write), which keeps one character per byte as CODA's columns need."""
    content = content.removeprefix(BOM)
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")
