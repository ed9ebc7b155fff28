"""The payments list as a CSV file to work on in a spreadsheet, streamed in chunks so a
long ledger never sits in memory. Values are machine values (the instant as the company's
wall-clock time with its offset, signed amounts with a decimal point, kinds and channels
as stored) whatever the reader's language; the first row names the columns in it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from flask_babel import lazy_gettext as _l

from collector.documents.payment_list import Line
from collector.runtime.csv_cells import drain as _drain
from collector.runtime.csv_cells import instant as _instant
from collector.runtime.csv_cells import text as _text

CSV_CHUNK_ROWS = 1_000
HEADER = (
    _l("Date"),
    _l("Customer"),
    _l("Customer number"),
    _l("Document"),
    _l("Kind"),
    _l("Channel"),
    _l("Amount"),
    _l("Currency"),
    _l("Reference"),
    _l("Reason"),
    _l("Cancelled at"),
)


def payments_csv(rows: Iterable[Line]) -> Iterator[str]:
    """The CSV of a payments export, in chunks of text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    # The labels are read now, inside the request: in the reader's language.
    writer.writerow([str(label) for label in HEADER])
    for n, row in enumerate(rows, start=1):
        writer.writerow(_values(row))
        if n % CSV_CHUNK_ROWS == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _values(line: Line) -> list:
    return [
        _instant(line.occurred_at),
        _text(line.customer),
        _text(line.customer_number),
        _text(line.number),
        line.kind.value,
        line.source.value,
        line.amount,  # a Decimal: -25.00 for a refund, never a formula
        line.currency,
        _text(line.reference),
        _text(line.reason),
        _instant(line.cancelled_at),
    ]
