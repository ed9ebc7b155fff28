"""Rows for tests: each helper makes one committed row from plain defaults, and any
column can be given instead. Numbers and ids are unique per call."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

from collector.extensions import db
from collector.models import (
    Customer,
    CustomerKind,
    DocumentKind,
    Invoice,
    InvoiceEvent,
    InvoiceState,
    Profile,
)

_serial = itertools.count(1)


def _next() -> int:
    return next(_serial)


def _save(row):
    db.session.add(row)
    db.session.commit()
    return row


def make_profile(**overrides) -> Profile:
    """A profile allowing bank transfer, named "Profile <n>"."""
    values = {"name": f"Profile {_next()}", "allow_bank_transfer": True}
    return _save(Profile(**{**values, **overrides}))


def make_customer(**overrides) -> Customer:
    """A company whose customer number is its Teamleader id (the linked state)."""
    n = _next()
    teamleader_id = overrides.pop("teamleader_id", f"00000000-0000-4000-8000-{n:012d}")
    values = {
        "teamleader_id": teamleader_id,
        "customer_number": teamleader_id,
        "kind": CustomerKind.COMPANY,
        "name": f"Customer {n}",
        "email": f"billing{n}@example.com",
        "language": "nl",
        "country": "BE",
    }
    return _save(Customer(**{**values, **overrides}))


def make_invoice(**overrides) -> Invoice:
    """A booked invoice of € 121.00 (€ 100 + 21 % VAT) dated 2026-11-01, due a month
    later, with a new customer unless ``customer`` or ``customer_id`` is given."""
    n = _next()
    if "customer" not in overrides and "customer_id" not in overrides:
        overrides["customer"] = make_customer()
    invoice_date = overrides.get("invoice_date", date(2026, 11, 1))
    values = {
        "kind": DocumentKind.INVOICE,
        "number": f"2026 / {n}",
        "teamleader_id": f"10000000-0000-4000-8000-{n:012d}",
        "invoice_date": invoice_date,
        "due_date": invoice_date + timedelta(days=30),
        "currency": "EUR",
        "total_excl_vat": Decimal("100.00"),
        "total_vat": Decimal("21.00"),
        "total_incl_vat": Decimal("121.00"),
        "amount_due": Decimal("121.00"),
        "state": InvoiceState.BOOKED,
    }
    return _save(Invoice(**{**values, **overrides}))


def make_event(invoice: Invoice, **overrides) -> InvoiceEvent:
    """An "imported" event on ``invoice``'s timeline, by the system, now."""
    values = {"kind": "imported", "actor": "system", "message": "Imported from Teamleader."}
    return _save(InvoiceEvent(invoice=invoice, **{**values, **overrides}))
