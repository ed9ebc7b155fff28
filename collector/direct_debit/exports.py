"""The mandates and collection runs lists as CSV files to work on in a spreadsheet,
streamed in chunks so a long list never sits in memory. Values are machine values (ISO
dates, amounts with a decimal point, states as stored) whatever the reader's language;
the first row names the columns in it."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date

from flask_babel import lazy_gettext as _l

from collector.direct_debit.mandate_list import ExportRow as MandateRow
from collector.direct_debit.run_list import ExportRow as RunRow
from collector.runtime.csv_cells import drain as _drain
from collector.runtime.csv_cells import instant as _instant
from collector.runtime.csv_cells import text as _text

CSV_MIMETYPE = "text/csv"
CSV_CHUNK_ROWS = 1_000

MANDATE_HEADER = (
    _l("Reference"),
    _l("Status"),
    _l("Customer"),
    _l("Customer number"),
    _l("Account holder"),
    "IBAN",
    "BIC",
    _l("Email"),
    _l("Profile"),
    _l("Scheme"),
    _l("Signed on"),
    _l("Next collection"),
    _l("Last collected on"),
    _l("Lapses on"),
)
RUN_HEADER = (
    _l("Run"),
    _l("Made at"),
    _l("Made by"),
    _l("Scheme"),
    _l("Announced up to"),
    _l("Status"),
    _l("Direct debits"),
    _l("Total"),
    _l("Currency"),
    _l("Settled"),
    _l("Rejected"),
    _l("Returned"),
    _l("Message id"),
    _l("Sent at"),
    _l("Cancelled at"),
    _l("Cancel reason"),
)


def mandates_csv(rows: Iterable[MandateRow]) -> Iterator[str]:
    """The CSV of a mandates export, in chunks of text."""
    return _csv(MANDATE_HEADER, rows, _mandate_values)


def runs_csv(rows: Iterable[RunRow]) -> Iterator[str]:
    """The CSV of a collection runs export, in chunks of text."""
    return _csv(RUN_HEADER, rows, _run_values)


def _mandate_values(m: MandateRow) -> list:
    return [
        _text(m.reference),
        m.status.value,
        _text(m.customer),
        _text(m.customer_number),
        _text(m.debtor_name),
        m.iban,
        m.bic or "",
        _text(m.email),
        _text(m.profile),
        m.scheme.value,
        _day(m.signed_on),
        m.next_sequence or "",
        _day(m.last_collected_on),
        _day(m.lapses_on),
    ]


def _run_values(r: RunRow) -> list:
    return [
        r.number,
        _instant(r.made_at),
        _text(r.made_by),
        r.scheme.value,
        _day(r.collect_until),
        r.status.value,
        r.count,
        r.total,  # a Decimal: 1250.25, never a formula
        r.currency,
        r.settled,
        r.rejected,
        r.returned,
        _text(r.message_id),
        _instant(r.sent_at),
        _instant(r.cancelled_at),
        _text(r.cancel_reason),
    ]


def _csv(header: Sequence, rows: Iterable, values: Callable[[object], list]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    # The labels are read now, inside the request: in the reader's language.
    writer.writerow([str(label) for label in header])
    for n, row in enumerate(rows, start=1):
        writer.writerow(values(row))
        if n % CSV_CHUNK_ROWS == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""
