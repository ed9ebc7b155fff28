"""The in-memory dataset and the factory that adds documents to it.

``Dataset`` is everything Teamleader would hold for one account. ``Factory`` creates
customers, subscriptions, invoices and credit notes in it; both the seeded generator and
the control API use it, drawing from the dataset's own seeded ``random.Random`` so a
reset with the same seed replays the same ids.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from . import documents as docs
from .people import new_id

SERVICES = [
    ("Onderhoud installatie", Decimal("95.00")),
    ("Consultancy (uur)", Decimal("85.00")),
    ("Licentie software (maand)", Decimal("49.00")),
    ("Verplaatsingskosten", Decimal("35.00")),
    ("Installatie en configuratie", Decimal("450.00")),
    ("Hosting pakket", Decimal("29.95")),
    ("Opleiding (dag)", Decimal("650.00")),
]
SECTION_TITLES = ["Prestaties", "Materiaal", None]
STANDARD_RATE = Decimal("0.21")  # the normal VAT rate in Belgium and the Netherlands


@dataclass
class Dataset:
    """Everything one Teamleader account holds, keyed by id (insertion ordered)."""

    seed: int
    rng: random.Random
    profile_options: list[str]
    account: dict = field(default_factory=dict)
    user: dict = field(default_factory=dict)
    departments: dict[str, dict] = field(default_factory=dict)
    tax_rates: dict[str, dict] = field(default_factory=dict)
    custom_fields: dict[str, dict] = field(default_factory=dict)
    payment_methods: dict[str, dict] = field(default_factory=dict)
    contacts: dict[str, dict] = field(default_factory=dict)
    companies: dict[str, dict] = field(default_factory=dict)
    subscriptions: dict[str, dict] = field(default_factory=dict)
    invoices: dict[str, dict] = field(default_factory=dict)
    credit_notes: dict[str, dict] = field(default_factory=dict)
    numbers: dict[tuple, int] = field(default_factory=dict)
    # Which reading of reference §7 [?] this account follows (see ``settle_invoice``).
    partial_credit_lowers_due: bool = True

    def customer(self, kind: str, ident: str) -> dict | None:
        """A contact or company by ``{type, id}`` parts."""
        return (self.companies if kind == "company" else self.contacts).get(ident)

    def definition_ids(self, context: str) -> list[str]:
        """Ids of the custom field definitions of one context."""
        return [d["id"] for d in self.custom_fields.values() if d["context"] == context]


class Factory:
    """Builds records into a ``Dataset``."""

    def __init__(self, data: Dataset) -> None:
        self.data = data
        self.rng = data.rng

    def tax_rate(self, department_id: str, rate: Decimal) -> str:
        """Id of the department's tax rate with this percentage."""
        for ident, tax in self.data.tax_rates.items():
            if tax["department_id"] == department_id and tax["rate"] == rate:
                return ident
        raise KeyError(rate)

    def random_lines(self, department_id: str, zero: bool = False) -> list[dict]:
        """One or two groups of one to three plausible service lines."""
        groups = []
        for _ in range(self.rng.choice([1, 1, 2])):
            items = []
            for _ in range(self.rng.randint(1, 3)):
                text, price = self.rng.choice(SERVICES)
                quantity = Decimal(self.rng.choice([1, 1, 2, 3, 4, 8]))
                rate = self.rng.choice(self._rates(department_id))
                discount = Decimal(10) if self.rng.random() < 0.1 else None
                unit = Decimal("0.00") if zero else price
                items.append(self._line(text, quantity, unit, department_id, rate, discount))
            groups.append(docs.group(self.rng.choice(SECTION_TITLES), items))
        return groups

    def lines_for_amount(self, department_id: str, amount: Decimal, text: str) -> list[dict]:
        """One line whose tax-inclusive total is exactly ``amount``.

        VAT is rounded per rate on the taxable total, so not every amount is reachable at
        21%; then the department's reduced rate is tried, and 0% always fits.
        """
        own = {
            t["rate"] for t in self.data.tax_rates.values() if t["department_id"] == department_id
        }
        for rate in sorted(own, reverse=True):
            guess = docs.cents(amount / (1 + rate))
            for delta in ("0.00", "-0.01", "0.01", "-0.02", "0.02"):
                unit = guess + Decimal(delta)
                if unit + docs.cents(unit * rate) == amount:
                    line = self._line(text, Decimal(1), unit, department_id, rate)
                    return [docs.group(None, [line])]
        raise AssertionError("a 0% rate always matches")  # pragma: no cover

    def _rates(self, department_id: str) -> list[Decimal]:
        # Most lines carry the standard 21%; the reduced rates (6% BE, 9% NL) now and then;
        # 0% (exempt / intra-EU reverse charge) only when an exact amount needs it.
        own = [
            t["rate"] for t in self.data.tax_rates.values() if t["department_id"] == department_id
        ]
        return [STANDARD_RATE] * 3 + [rate for rate in own if rate not in (STANDARD_RATE, 0)]

    def _line(
        self,
        text: str,
        quantity: Decimal,
        unit: Decimal,
        department_id: str,
        rate: Decimal,
        discount: Decimal | None = None,
    ) -> dict:
        tax_id = self.tax_rate(department_id, rate)
        return docs.line_item(text, quantity, unit, rate, tax_id, "EUR", discount)

    def custom_fields(self, context: str, value: str | None) -> list[dict]:
        """Values for every definition of the context (unset ones are ``null``, as in real data)."""
        return [
            {"definition": docs.link("customFieldDefinition", ident), "value": value}
            for ident in self.data.definition_ids(context)
        ]

    def invoice(
        self,
        department_id: str,
        customer: tuple[str, dict],
        lines: list[dict],
        created_at: datetime,
        payment_term: dict | None = None,
        subscription_id: str | None = None,
        profile: str | None = None,
    ) -> dict:
        """A draft invoice (reference §6.1: drafts have no number, date or due date)."""
        kind, record = customer
        ident = new_id(self.rng)
        department = self.data.departments[department_id]
        total = docs.document_total(lines, "EUR")
        total["due"] = dict(total["payable"])
        invoice = {
            "id": ident,
            "department": docs.link("department", department_id),
            "invoice_number": None,
            "invoice_date": None,
            "status": "draft",
            "due_on": None,
            "paid": False,
            "paid_at": None,
            "sent": False,
            "purchase_order_number": self._purchase_order(),
            "payment_reference": None,
            "invoicee": docs.invoicee(record, kind, self._attention(kind, record)),
            "discounts": [],
            "grouped_lines": lines,
            "total": total,
            "payment_term": payment_term or self._payment_term(),
            "payments": [],
            "note": None,
            "currency": "EUR",
            "currency_exchange_rate": None,
            "expected_payment_method": self._expected_method(profile),
            "file": None,
            "deal": None,
            "project": None,
            "on_hold_since": None,
            "custom_fields": self.custom_fields("invoice", profile),
            "created_at": created_at,
            "updated_at": created_at,
            "document_template": docs.link("documentTemplate", department["_template_id"]),
            "delivery_date": None,
            "peppol_status": None,
            "web_url": f"https://focus.teamleader.eu/invoice_detail.php?id={ident}",
            "subscription": docs.link("subscription", subscription_id),
            "_credited": docs.ZERO,
            "_credited_at": [],
        }
        self.data.invoices[ident] = invoice
        return invoice

    def book(self, invoice: dict, on: date, at: datetime) -> None:
        """Book a draft: number per department and fiscal year, structured reference, due date."""
        department_id = invoice["department"]["id"]
        counter = docs.next_number(self.data.numbers, "invoice", department_id, on.year)
        invoice["invoice_number"] = f"{on.year} / {counter}"
        invoice["invoice_date"] = on
        invoice["due_on"] = docs.due_date(on, invoice["payment_term"])
        invoice["payment_reference"] = docs.ogm(self.rng.randrange(10**9, 10**10))
        invoice["status"] = "outstanding"
        invoice["sent"] = True
        invoice["updated_at"] = at
        docs.settle_invoice(invoice, self.data.partial_credit_lowers_due)

    def pay(self, invoice: dict, amount: Decimal, paid_at: datetime) -> None:
        """Add one payment and recompute the balance."""
        payment = {"paid_at": paid_at, "payment": docs.money(amount, invoice["currency"])}
        invoice["payments"].append(payment)
        invoice["updated_at"] = max(invoice["updated_at"], paid_at)
        docs.settle_invoice(invoice, self.data.partial_credit_lowers_due)

    def credit_note(self, invoice: dict, lines: list[dict], on: date, at: datetime) -> dict:
        """Book a credit note on ``invoice`` and take its amount off the invoice's due."""
        department_id = invoice["department"]["id"]
        counter = docs.next_number(self.data.numbers, "creditNote", department_id, on.year)
        ident = new_id(self.rng)
        total = docs.document_total(lines, invoice["currency"])
        note = {
            "id": ident,
            "department": invoice["department"],
            "credit_note_number": f"{on.year}/{counter}",
            "credit_note_date": on,
            "status": "booked",
            "invoice": docs.link("invoice", invoice["id"]),
            "paid": False,
            "paid_at": None,
            "invoicee": {k: v for k, v in invoice["invoicee"].items() if k != "for_attention_of"},
            "discounts": [],
            "total": total,
            "grouped_lines": lines,
            "currency": invoice["currency"],
            "currency_exchange_rate": None,
            "created_at": at,
            "updated_at": at,
            "document_template": invoice["document_template"],
            "peppol_status": None,
        }
        self.data.credit_notes[ident] = note
        invoice["_credited"] += docs.credited_amount(note)
        invoice["_credited_at"].append(at)
        invoice["updated_at"] = max(invoice["updated_at"], at)
        docs.settle_invoice(invoice, self.data.partial_credit_lowers_due)
        return note

    def _attention(self, kind: str, record: dict) -> dict | None:
        if kind != "company" or not record["_contact_ids"]:
            return None
        return self.data.contacts[record["_contact_ids"][0]]

    def _purchase_order(self) -> str | None:
        return f"PO-{self.rng.randrange(10000, 99999)}" if self.rng.random() < 0.2 else None

    def _payment_term(self) -> dict:
        return self.rng.choice(
            [
                {"type": "after_invoice_date", "days": 30},
                {"type": "after_invoice_date", "days": 30},
                {"type": "after_invoice_date", "days": 14},
                {"type": "end_of_month", "days": 30},
            ]
        )

    def _expected_method(self, profile: str | None) -> dict | None:
        if profile and "debit" in profile.lower():
            return {"method": "sepa_direct_debit", "reference": None}
        if profile and "transfer" in profile.lower():
            return {"method": "bank_transfer"}
        return None
