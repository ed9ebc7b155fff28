"""A Teamleader invoice or credit note as the body of one Exact sales entry (no I/O here).

Lines carry the amount excluding VAT, the mapped VAT code and G/L account, and the VAT amount
Teamleader computed (reference §5.3: ``VATAmountFC`` overrides Exact's own calculation, so the
entry matches Teamleader's rounding, which is per rate on the taxable total). Credit notes are
the same body with every amount negated, in their own journal (§5.7).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from collector.core.money import round_cents
from collector.documents.models import Invoice
from collector.exact.models import EntryNumbering, ExactConnection
from collector.exact.settings import rate_key, rate_label, term_key

INT32_MAX = 2**31 - 1
DESCRIPTION_MAX = 60  # Exact's description fields; longer text is cut, never refused


class Unmapped(Exception):
    """The document cannot be booked with the current settings; the message says why."""


@dataclass(frozen=True)
class Line:
    description: str
    rate: str  # rate_key of the VAT rate
    amount: Decimal  # excluding VAT, as booked (negative on credit notes)
    vat: Decimal


def entry_body(invoice: Invoice, document: dict, connection: ExactConnection) -> dict:
    """The SalesEntries POST body for ``invoice`` as Teamleader returned it (``.info``).

    Raises ``Unmapped`` before anything is sent. The customer's account and the PDF's
    document come after (``with_links``): they cost calls to Exact."""
    sign = _sign(invoice, document)
    body = {
        "Journal": journal_for(invoice, connection),
        "EntryDate": invoice.invoice_date.isoformat(),
        "YourRef": invoice.number,
        "Description": _cut(f"Teamleader {_kind(invoice)} {invoice.number}"),
        "Currency": invoice.currency,
        "SalesEntryLines": [
            {
                "GLAccount": connection.gl_accounts[line.rate],
                "Description": _cut(line.description),
                "AmountFC": line.amount * sign,
                "VATCode": connection.vat_codes[line.rate],
                "VATAmountFC": line.vat * sign,
            }
            for line in lines(document, connection)
        ],
    }
    if invoice.due_date and not invoice.is_credit_note:
        body["DueDate"] = invoice.due_date.isoformat()
    if invoice.payment_reference:
        body["PaymentReference"] = invoice.payment_reference
    condition = connection.payment_conditions.get(term_key(document.get("payment_term")) or "")
    if condition:
        body["PaymentCondition"] = condition
    if connection.entry_numbers == EntryNumbering.INVOICE:
        body["EntryNumber"] = entry_number(invoice.number)
    return body


def with_links(body: dict, account_id: str | None, document_id: str | None) -> dict:
    """``body`` booked on the customer's account, with the PDF's document linked."""
    links = {"Customer": account_id, "Document": document_id}
    return {**body, **{key: value for key, value in links.items() if value}}


def journal_for(invoice: Invoice, connection: ExactConnection) -> str:
    journal = (
        connection.credit_note_journal if invoice.is_credit_note else connection.invoice_journal
    )
    if not journal:
        raise Unmapped(f"No Exact journal is chosen for {_kind(invoice)}s.")
    return journal


def lines(document: dict, connection: ExactConnection) -> list[Line]:
    """The document's lines with rates resolved and checked against the mappings.

    When the lines do not add up to Teamleader's taxable total of a rate (a discount on the
    whole document), one line per rate books the difference, so the entry equals the document.
    """
    rates = {t["id"]: t["rate"] for t in (connection.choices or {}).get("tax_rates") or []}
    found: list[Line] = []
    for group in document.get("grouped_lines") or []:
        for number, item in enumerate(group.get("line_items") or [], start=len(found) + 1):
            rate = rates.get(item.get("tax_rate_id") or "")
            if rate is None:
                raise Unmapped(
                    f"Line {number} has a VAT rate Teamleader did not list; read the lists "
                    "again on the Exact Online settings."
                )
            amount = (item.get("total") or {}).get("tax_exclusive")
            if amount is None:
                raise Unmapped(f"Line {number} has no amount excluding VAT in Teamleader.")
            found.append(Line(item.get("description") or "", rate, amount, Decimal(0)))
    taxes = {rate_key(t["rate"]): t for t in (document.get("total") or {}).get("taxes") or []}
    found = _with_discounts(found, taxes)
    if not found:
        raise Unmapped("The document has no lines in Teamleader.")
    for rate in {line.rate for line in found}:
        if rate not in connection.vat_codes:
            raise Unmapped(
                f"No Exact VAT code is mapped for Teamleader VAT rate {rate_label(rate)}."
            )
        if rate not in connection.gl_accounts:
            raise Unmapped(
                f"No Exact G/L account is mapped for Teamleader VAT rate {rate_label(rate)}."
            )
    return _with_vat(found, taxes)


def _with_discounts(found: list[Line], taxes: dict[str, dict]) -> list[Line]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for line in found:
        sums[line.rate] += line.amount
    extra = []
    for rate, tax in taxes.items():
        taxable = tax.get("taxable")
        if taxable is not None and taxable != sums.get(rate, Decimal(0)):
            difference = taxable - sums.get(rate, Decimal(0))
            extra.append(Line("Discount", rate, difference, Decimal(0)))
    return found + extra


def _with_vat(found: list[Line], taxes: dict[str, dict]) -> list[Line]:
    """VAT per line, the last line of each rate taking the rounding so the rate's total
    equals Teamleader's ``total.taxes[].tax``."""
    result = [
        Line(line.description, line.rate, line.amount, _round(line.amount * Decimal(line.rate)))
        for line in found
    ]
    for rate, tax in taxes.items():
        indices = [i for i, line in enumerate(result) if line.rate == rate]
        if not indices or tax.get("tax") is None:
            continue
        difference = tax["tax"] - sum((result[i].vat for i in indices), Decimal(0))
        last = result[indices[-1]]
        result[indices[-1]] = Line(last.description, last.rate, last.amount, last.vat + difference)
    return result


def entry_number(number: str) -> int:
    """The digits of a Teamleader number as Exact's Int32 ``EntryNumber`` (§5.2)."""
    digits = re.sub(r"\D", "", number or "")
    if not digits or int(digits) > INT32_MAX or int(digits) == 0:
        raise Unmapped(
            f"The number {number!r} gives no entry number Exact can take (a whole number up "
            f"to {INT32_MAX}); let Exact number the entries instead."
        )
    return int(digits)


def _sign(invoice: Invoice, document: dict) -> Decimal:
    """-1 for a credit note: Teamleader gives its amounts positive, Exact wants them negative.
    A credit note whose total is already negative is left as it is (not seen, but cheap)."""
    total = ((document.get("total") or {}).get("tax_exclusive")) or Decimal(0)
    return Decimal(-1) if invoice.is_credit_note and total >= 0 else Decimal(1)


def _round(amount: Decimal) -> Decimal:
    return round_cents(amount)


def _kind(invoice: Invoice) -> str:
    return "credit note" if invoice.is_credit_note else "invoice"


def _cut(text: str) -> str:
    return text if len(text) <= DESCRIPTION_MAX else text[: DESCRIPTION_MAX - 1] + "…"
