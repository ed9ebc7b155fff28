"""The documents overview as a file to work on in a spreadsheet: CSV streamed in chunks,
XLSX written row by row (openpyxl's write-only mode) to a file, so that 100,000 rows
never sit in memory at once. Amounts are numbers (credit notes negative), dates are
dates, and the first row names the columns in the reader's language (the values stay
machine-readable: ISO dates, a decimal point, the states and kinds as the API names them)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import IO

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter

from collector.documents.models import DocumentKind
from collector.runtime.csv_cells import drain as _drain
from collector.runtime.csv_cells import text as _text
from collector.web.overview import ExportRow

HEADER = (
    _l("Number"),
    _l("Kind"),
    _l("Customer"),
    _l("Customer number"),
    _l("Invoice date"),
    _l("Due date"),
    _l("Days overdue"),
    _l("Currency"),
    _l("Amount"),
    _l("Amount due"),
    _l("State"),
    _l("Partly paid"),
    _l("Profile"),
    "PDF",
    _l("Teamleader id"),
)
KINDS = {DocumentKind.INVOICE: "invoice", DocumentKind.CREDIT_NOTE: "credit note"}
YES, NO = "yes", "no"
SHEET_TITLE = _l("Documents")
CSV_CHUNK_ROWS = 1_000
# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV
# injection"); names and numbers come from Teamleader, typed by anyone.
AMOUNT_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
# Column widths in characters, so dates and amounts show whole when the file opens.
WIDTHS = (16, 12, 32, 38, 12, 12, 8, 9, 14, 14, 10, 8, 16, 6, 38)

CSV_MIMETYPE = "text/csv"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def header() -> list[str]:
    """The first row: the columns' names, translated now (openpyxl takes plain text)."""
    return [str(name) for name in HEADER]


def invoices_csv(rows: Iterable[ExportRow]) -> Iterator[str]:
    """The CSV of ``rows`` with its header, in text chunks of CSV_CHUNK_ROWS lines:
    amounts with a decimal point, dates as YYYY-MM-DD."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header())
    for n, row in enumerate(rows, start=1):
        writer.writerow(_csv_values(row))
        if n % CSV_CHUNK_ROWS == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _csv_values(row: ExportRow) -> list:
    return [
        _text(row.number),
        KINDS[row.kind],
        _text(row.customer),
        _text(row.customer_number),
        row.invoice_date.isoformat(),
        row.due_date.isoformat() if row.due_date else "",
        "" if row.days_overdue is None else row.days_overdue,
        row.currency,
        row.amount,  # a Decimal: written as 121.00 or -121.00, never as a formula
        row.amount_due,
        row.state.value,
        YES if row.partly_paid else NO,
        _text(row.profile),
        YES if row.pdf else NO,
        _text(row.teamleader_id),
    ]


def write_xlsx(rows: Iterable[ExportRow], target: IO[bytes]) -> None:
    """The workbook of ``rows`` (one sheet, header frozen) written into ``target``."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(str(SHEET_TITLE))
    for n, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(n)].width = width
    sheet.freeze_panes = "A2"
    sheet.append(header())
    for row in rows:
        sheet.append(_xlsx_values(sheet, row))
    workbook.save(target)


def _xlsx_values(sheet, row: ExportRow) -> list:
    return [
        _string(sheet, row.number),
        KINDS[row.kind],
        _string(sheet, row.customer),
        _string(sheet, row.customer_number),
        _formatted(sheet, row.invoice_date, DATE_FORMAT),
        _formatted(sheet, row.due_date, DATE_FORMAT),
        row.days_overdue,
        row.currency,
        _formatted(sheet, row.amount, AMOUNT_FORMAT),
        _formatted(sheet, row.amount_due, AMOUNT_FORMAT),
        row.state.value,
        YES if row.partly_paid else NO,
        _string(sheet, row.profile),
        YES if row.pdf else NO,
        _string(sheet, row.teamleader_id),
    ]


def _string(sheet, value: str | None):
    """Text stays text: openpyxl would store "=…" as a formula, which a spreadsheet runs."""
    if not value or not value.startswith("="):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell


def _formatted(sheet, value, number_format: str):
    if value is None:
        return None
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = number_format
    return cell
