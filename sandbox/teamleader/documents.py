"""Invoices and credit notes as records: lines, totals, numbers, balance.

Records are dicts in the ``.info`` shape (money as ``Decimal``, dates as ``date``,
times as tz-aware ``datetime``); keys starting with ``_`` are internal and never
serialised. The generator and the state-changing operations both build documents here,
so a booked invoice looks the same whether it was seeded or booked through the control API.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(value: Decimal) -> Decimal:
    """Round to cents, half up, as invoices are."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money(amount: Decimal, currency: str) -> dict:
    """A Teamleader Money object."""
    return {"amount": cents(amount), "currency": currency}


def link(kind: str, ident: str | None) -> dict | None:
    """A ``{type, id}`` reference, or ``None`` without an id."""
    return {"type": kind, "id": ident} if ident else None


def line_item(
    description: str,
    quantity: Decimal,
    unit_price: Decimal,
    rate: Decimal,
    tax_rate_id: str,
    currency: str,
    discount: Decimal | None = None,
) -> dict:
    """One line with its four line totals; ``_rate`` keeps the VAT rate for the taxes."""
    before = cents(quantity * unit_price)
    excl = cents(before * (1 - discount / 100)) if discount else before
    return {
        "product": None,
        "quantity": quantity,
        "description": description,
        "extended_description": None,
        "unit": None,
        "unit_price": {"amount": unit_price, "currency": currency, "tax": "excluding"},
        "tax": {"type": "taxRate", "id": tax_rate_id},
        "discount": {"type": "percentage", "value": discount} if discount else None,
        "total": {
            "tax_exclusive": money(excl, currency),
            "tax_exclusive_before_discount": money(before, currency),
            "tax_inclusive": money(excl * (1 + rate), currency),
            "tax_inclusive_before_discount": money(before * (1 + rate), currency),
        },
        "product_category": None,
        "withheld_tax": None,
        "_rate": rate,
    }


def group(title: str | None, items: list[dict]) -> dict:
    """A grouped_lines entry; the title may be ``None`` (reference §15.10, PR 639)."""
    return {"section": {"title": title}, "line_items": items}


def document_total(grouped_lines: list[dict], currency: str) -> dict:
    """Totals with VAT computed per rate on the summed taxable amount."""
    taxable: dict[Decimal, Decimal] = {}
    undiscounted: dict[Decimal, Decimal] = {}
    for item in (item for g in grouped_lines for item in g["line_items"]):
        rate, totals = item["_rate"], item["total"]
        taxable[rate] = taxable.get(rate, ZERO) + totals["tax_exclusive"]["amount"]
        before = totals["tax_exclusive_before_discount"]["amount"]
        undiscounted[rate] = undiscounted.get(rate, ZERO) + before
    taxes = [
        {"rate": rate, "taxable": money(base, currency), "tax": money(base * rate, currency)}
        for rate, base in sorted(taxable.items(), reverse=True)
    ]
    excl = sum(taxable.values(), ZERO)
    incl = excl + sum((t["tax"]["amount"] for t in taxes), ZERO)
    before = sum(undiscounted.values(), ZERO)
    before_incl = before + sum((cents(b * r) for r, b in undiscounted.items()), ZERO)
    return {
        "tax_exclusive": money(excl, currency),
        "tax_exclusive_before_discount": money(before, currency),
        "tax_inclusive": money(incl, currency),
        "tax_inclusive_before_discount": money(before_incl, currency),
        "taxes": taxes,
        "withheld_taxes": [],
        "payable": money(incl, currency),
    }


def due_date(on: date, term: dict) -> date:
    """Due date for a payment term ``{type: cash|end_of_month|after_invoice_date, days}``."""
    days = term.get("days") or 0
    if term["type"] == "cash":
        return on
    if term["type"] == "end_of_month":
        last = calendar.monthrange(on.year, on.month)[1]
        return on.replace(day=last) + timedelta(days=days)
    return on + timedelta(days=days)


def ogm(base: int) -> str:
    """Belgian structured communication ``+++ddd/dddd/ddddd+++``: 10 digits + mod-97 check."""
    check = base % 97 or 97
    digits = f"{base:010d}{check:02d}"
    return f"+++{digits[:3]}/{digits[3:7]}/{digits[7:]}+++"


def next_number(numbers: dict, kind: str, department_id: str, year: int) -> int:
    """Next counter in a department's fiscal year (numbers repeat across departments)."""
    key = (kind, department_id, year)
    numbers[key] = numbers.get(key, 0) + 1
    return numbers[key]


def invoicee(customer: dict, kind: str, attention: dict | None) -> dict:
    """The ``invoicee`` block (info shape) for a contact or company record."""
    emails = {e["type"]: e["email"] for e in customer["emails"]}
    if kind == "company":
        name = customer["name"]
    else:
        name = f"{customer['first_name']} {customer['last_name']}"
    for_attention_of = None
    if attention is not None:
        full_name = f"{attention['first_name']} {attention['last_name']}"
        for_attention_of = {"name": full_name, "contact": link("contact", attention["id"])}
    return {
        "name": name,
        "vat_number": customer.get("vat_number"),
        "customer": link(kind, customer["id"]),
        "for_attention_of": for_attention_of,
        "email": emails.get("invoicing") or emails.get("primary"),
        "national_identification_number": customer.get("national_identification_number"),
    }


def settle_invoice(invoice: dict, partial_credit_lowers_due: bool = True) -> None:
    """Recompute ``total.due``, ``status``, ``paid`` and ``paid_at`` of a booked invoice.

    Settled (``matched``) when nothing is due any more after payments and credit notes.
    Reference §7 leaves the credit-note effect open ([?]). By default we follow the
    Blueprint ("reduces the due amount of the credited invoice"), so a partial credit
    note lowers ``due`` but leaves the invoice ``outstanding`` (as support describes), a
    full one settles it. With ``partial_credit_lowers_due`` off (the support centre's
    reading, ``POST /control/quirks``) a partial credit note leaves ``due`` as it was.
    Over-payment is accepted (undocumented) and ``due`` never goes below zero.
    A zero-amount invoice with nothing registered stays ``outstanding`` with ``due`` 0.
    """
    if invoice["status"] == "draft":
        return
    currency = invoice["currency"]
    paid = sum((p["payment"]["amount"] for p in invoice["payments"]), ZERO)
    payable = invoice["total"]["payable"]["amount"]
    credited = invoice["_credited"]
    if not partial_credit_lowers_due and credited < payable:
        credited = ZERO
    due = max(payable - paid - credited, ZERO)
    invoice["total"]["due"] = money(due, currency)
    settled = due == ZERO and (paid > ZERO or invoice["_credited"] > ZERO)
    invoice["status"] = "matched" if settled else "outstanding"
    invoice["paid"] = settled
    moments = [p["paid_at"] for p in invoice["payments"]] + invoice["_credited_at"]
    invoice["paid_at"] = max(moments) if settled and moments else None


def credited_amount(credit_note: dict) -> Decimal:
    """What a credit note takes off its invoice's due amount."""
    return credit_note["total"]["payable"]["amount"]
