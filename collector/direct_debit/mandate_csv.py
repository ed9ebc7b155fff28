"""Reading a mandates CSV: encoding, separator, header and rows, streamed.

What finance teams send: the customers export with its mandate columns filled in, or a
file of their own; saved by a spreadsheet with commas or semicolons, UTF-8 with or
without a byte-order mark. Rows are numbered as the spreadsheet shows them (the header
is row 1), so a problem can be found where it was typed.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

from collector.direct_debit.wording import N_, english
from collector.runtime.csv_cells import FORMULA_STARTS

REQUIRED = ("customerNumber", "mandateNumber", "iban", "bic", "signDate")
OPTIONAL = ("name", "email", "profile", "scheme")
COLUMNS = REQUIRED + OPTIONAL
SEPARATORS = (",", ";")
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
DMY_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
# Why a file cannot be read, stored in English with its upload (``mandate_problems``).
# Text is decoded ahead of the rows in blocks, so the row it failed on is not told.
NOT_UTF8 = N_(
    "The file is not UTF-8 text (Excel's “CSV UTF-8”): some characters are not. Save it "
    "from the spreadsheet as “CSV UTF-8” and upload it again."
)
UTF16 = N_(
    "The file is saved as UTF-16 (“Unicode text”), not UTF-8. Save it from the spreadsheet "
    "as “CSV UTF-8” and upload it again."
)
NOT_CSV = N_("Row %(row)s cannot be read as CSV: %(error)s.")
EMPTY = N_("The file is empty: the first line must name the columns.")
COLUMN_TWICE = N_("The column %(column)s appears twice in the first line.")
MISSING_COLUMNS = N_(
    "Missing column(s): %(missing)s. The first line must name the columns %(required)s "
    "(and optionally %(optional)s)."
)
FILE_PROBLEMS = (NOT_UTF8, UTF16, NOT_CSV, EMPTY, COLUMN_TWICE, MISSING_COLUMNS)


class FileProblem(Exception):
    """The file as a whole cannot be read as a mandates CSV; the message says why."""


@dataclass(frozen=True)
class Row:
    """One data row: its spreadsheet row number and its known columns, cleaned."""

    number: int
    cells: dict[str, str]

    @property
    def has_mandate(self) -> bool:
        return has_mandate(self.cells)


def has_mandate(cells: dict[str, str]) -> bool:
    """Whether any mandate column of a row's cells is filled: a row of the customers
    export whose mandate columns are all empty is a customer without a mandate, not a
    mistake, and is skipped."""
    return bool(cells["mandateNumber"] or cells["iban"] or cells["bic"] or cells["signDate"])


class MandateCsv:
    """The rows of a mandates CSV read from a binary stream, one at a time.

    ``skipped`` counts the rows without mandate details (blank, or a customer of the
    export left without one) once iteration is over.
    """

    def __init__(self, binary: BinaryIO):
        self.binary = binary
        self.skipped = 0
        self._text = _text_stream(binary)
        self.separator, self.columns, self._first_row = _header(self._text)

    def position(self) -> int:
        """How many bytes of the file have been read so far."""
        return self.binary.tell()

    def __iter__(self) -> Iterator[Row]:
        reader = csv.reader(self._text, delimiter=self.separator)
        number = self._first_row - 1
        try:
            for number, cells in enumerate(reader, start=self._first_row):
                known = self._known(cells)
                if has_mandate(known):
                    yield Row(number, known)
                else:
                    self.skipped += 1
        except UnicodeDecodeError as exc:
            raise FileProblem(english(NOT_UTF8)) from exc
        except csv.Error as exc:
            raise FileProblem(english(NOT_CSV, row=number + 1, error=exc)) from exc

    def _known(self, cells: list[str]) -> dict[str, str]:
        values = dict.fromkeys(COLUMNS, "")
        for name, index in self.columns.items():
            if index < len(cells):
                values[name] = clean_cell(cells[index])
        return values


def _text_stream(binary: BinaryIO) -> io.TextIOWrapper:
    start = binary.read(4)
    binary.seek(0)
    if start.startswith(UTF16_BOMS):
        raise FileProblem(english(UTF16))
    # utf-8-sig drops a byte-order mark if there is one; newline="" leaves line ends
    # inside quoted cells to the csv module, as it asks.
    return io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")


def _header(text: io.TextIOWrapper) -> tuple[str, dict[str, int], int]:
    """(separator, column name → index, number of the first data row)."""
    try:
        line = text.readline()
        first_row = 2
        # Excel writes and reads a "sep=;" line that names the separator; it does not
        # show it, so the header is still row 1 to the user.
        if line.strip().lower().startswith("sep="):
            forced = line.strip()[4:5]
            line = text.readline()
        else:
            forced = None
    except UnicodeDecodeError as exc:
        raise FileProblem(english(NOT_UTF8)) from exc
    if not line.strip():
        raise FileProblem(english(EMPTY))
    separator = forced or max(SEPARATORS, key=line.count)
    names = next(csv.reader([line], delimiter=separator))
    return separator, _columns(names), first_row


def _columns(names: list[str]) -> dict[str, int]:
    canonical = {name.lower(): name for name in COLUMNS}
    columns: dict[str, int] = {}
    for index, raw in enumerate(names):
        name = canonical.get(raw.strip().lower())
        if name is None:
            continue  # the export's other columns (language, address…) are not ours
        if name in columns:
            raise FileProblem(english(COLUMN_TWICE, column=name))
        columns[name] = index
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise FileProblem(
            english(
                MISSING_COLUMNS,
                missing=", ".join(missing),
                required=", ".join(REQUIRED),
                optional=", ".join(OPTIONAL),
            )
        )
    return columns


def clean_cell(value: str) -> str:
    """A cell as typed: without the apostrophe our customers export puts before text a
    spreadsheet would run as a formula, and without surrounding spaces."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        value = value[1:]
    return value.strip()


def parse_date(text: str) -> date | None:
    """``YYYY-MM-DD`` or ``DD/MM/YYYY`` (one-digit day and month too); None otherwise."""
    match = ISO_DATE.fullmatch(text)
    if match:
        year, month, day = match.groups()
    else:
        match = DMY_DATE.fullmatch(text)
        if match is None:
            return None
        day, month, year = match.groups()
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None
