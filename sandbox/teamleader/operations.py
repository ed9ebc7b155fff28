"""State changes shared by the RPC methods and the control API, each firing its webhook.

Business rules live here; callers have already checked JSON types. Webhooks are fired
after the store lock is released (the dispatcher delivers in the background anyway).
"""

from __future__ import annotations

import copy
from datetime import date, datetime
from decimal import Decimal

from . import documents as docs
from .emulator import Emulator
from .errors import invalid
from .factory import Factory
from .views import credit_note_info, invoice_info, public

CONTACT_FIELDS = ("first_name", "last_name", "salutation", "language", "iban", "bic", "vat_number")
COMPANY_FIELDS = ("name", "language", "iban", "bic", "vat_number")


def _invoice(em: Emulator, invoice_id: str, field: str = "id", booked: bool = True) -> dict:
    invoice = em.store.data.invoices.get(invoice_id)
    if invoice is None:
        raise invalid(field, f"{field} does not refer to an existing invoice")
    if booked and invoice["status"] == "draft":
        raise invalid(field, "The invoice is a draft; only booked invoices can do this")
    return invoice


def register_payment(
    em: Emulator,
    invoice_id: str,
    amount: Decimal,
    currency: str,
    paid_at: datetime,
    method_id: str | None = None,
) -> dict:
    """Add a payment (partial payments allowed, reference §6.5); fires paymentRegistered."""
    with em.store.lock:
        invoice = _invoice(em, invoice_id)
        # Other currencies and non-positive amounts are undocumented ([?]); refusing them
        # makes a client bug visible instead of silently corrupting the balance.
        if currency != invoice["currency"]:
            raise invalid("payment.currency", f"payment.currency must be {invoice['currency']}")
        if amount <= 0:
            raise invalid("payment.amount", "payment.amount must be greater than 0")
        if method_id is not None and method_id not in em.store.data.payment_methods:
            raise invalid(
                "payment_method_id", "payment_method_id does not refer to a payment method"
            )
        Factory(em.store.data).pay(invoice, amount, paid_at)
        # Whether registerPayment bumps updated_at is undocumented (reference §16); we bump
        # it so an updated_since sweep sees the change.
        invoice["updated_at"] = em.clock.now()
        result = invoice_info(invoice, set())
    em.fire("invoice.paymentRegistered", "invoice", invoice_id)
    return result


def remove_payments(em: Emulator, invoice_id: str) -> dict:
    """Remove *all* payments (there is no per-payment delete, reference §6.5)."""
    with em.store.lock:
        invoice = _invoice(em, invoice_id)
        invoice["payments"] = []
        docs.settle_invoice(invoice, em.store.data.partial_credit_lowers_due)
        invoice["updated_at"] = em.clock.now()
        result = invoice_info(invoice, set())
    em.fire("invoice.paymentRemoved", "invoice", invoice_id)
    return result


def book_invoice(em: Emulator, spec: dict) -> dict:
    """Create an invoice (booked unless ``spec["draft"]``); fires booked/drafted.

    ``spec`` keys, all optional: department_id, customer {type, id}, amount (tax
    inclusive), invoice_date, profile (an option label), payment_term, draft.
    """
    with em.store.lock:
        data, factory, now = em.store.data, Factory(em.store.data), em.clock.now()
        kind, customer = _customer(em, spec.get("customer"))
        department_id = spec.get("department_id") or _department_for(em, customer)
        if department_id not in data.departments:
            raise invalid("department_id", "department_id does not refer to a department")
        profile = _profile(em, spec.get("profile"))
        if spec.get("amount") is not None:
            lines = factory.lines_for_amount(department_id, spec["amount"], "Prestaties")
        else:
            lines = factory.random_lines(department_id)
        term = spec.get("payment_term") or {"type": "after_invoice_date", "days": 30}
        invoice = factory.invoice(
            department_id, (kind, customer), lines, now, term, profile=profile
        )
        if not spec.get("draft"):
            factory.book(invoice, spec.get("invoice_date") or now.date(), now)
        result = invoice_info(invoice, set())
    em.fire("invoice.drafted" if spec.get("draft") else "invoice.booked", "invoice", invoice["id"])
    return result


def book_draft(em: Emulator, invoice_id: str, on: date | None) -> dict:
    """Book an existing draft (``invoices.book``); fires invoice.booked."""
    with em.store.lock:
        invoice = _invoice(em, invoice_id, booked=False)
        if invoice["status"] != "draft":
            raise invalid("id", "The invoice is already booked")
        now = em.clock.now()
        Factory(em.store.data).book(invoice, on or now.date(), now)
        result = invoice_info(invoice, set())
    em.fire("invoice.booked", "invoice", invoice_id)
    return result


def book_credit_note(em: Emulator, invoice_id: str, amount: Decimal | None) -> dict:
    """Credit an invoice fully (no amount) or partially; fires creditNote.booked."""
    with em.store.lock:
        invoice = _invoice(em, invoice_id, field="invoice_id")
        factory, now = Factory(em.store.data), em.clock.now()
        open_amount = invoice["total"]["payable"]["amount"] - invoice["_credited"]
        if amount is None:
            lines = copy.deepcopy(invoice["grouped_lines"])
        elif not 0 < amount <= open_amount:
            raise invalid("amount", f"amount must be between 0 and {open_amount}")
        else:
            department_id = invoice["department"]["id"]
            lines = factory.lines_for_amount(department_id, amount, "Creditering")
        note = factory.credit_note(invoice, lines, now.date(), now)
        result = credit_note_info(note)
    em.fire("creditNote.booked", "creditNote", note["id"])
    return result


def update_invoice(em: Emulator, invoice_id: str, changes: dict) -> dict:
    """Edit an invoice as a user would in Teamleader; fires invoice.updated.

    Accepted keys: due_on, purchase_order_number, note, sent, on_hold_since, profile,
    amount (replaces the lines; possible only without strict mode, reference §13).
    """
    with em.store.lock:
        invoice = _invoice(em, invoice_id, booked=False)
        for key in ("due_on", "purchase_order_number", "note", "sent", "on_hold_since"):
            if key in changes:
                invoice[key] = changes[key]
        if "profile" in changes:
            value = _profile(em, changes["profile"])
            invoice["custom_fields"] = Factory(em.store.data).custom_fields("invoice", value)
        if changes.get("amount") is not None:
            _reprice(em, invoice, changes["amount"])
        invoice["updated_at"] = em.clock.now()
        result = invoice_info(invoice, set())
    em.fire("invoice.updated", "invoice", invoice_id)
    return result


def update_customer(em: Emulator, kind: str, ident: str, changes: dict) -> dict:
    """Edit a contact or company; ``email``/``invoicing_email`` set those addresses."""
    with em.store.lock:
        record = em.store.data.customer(kind, ident)
        if record is None:
            raise invalid("id", f"id does not refer to an existing {kind}")
        for key in CONTACT_FIELDS if kind == "contact" else COMPANY_FIELDS:
            if key in changes:
                record[key] = changes[key]
        for key, kind_of_email in (("email", "primary"), ("invoicing_email", "invoicing")):
            if changes.get(key):
                _set_email(record, kind_of_email, changes[key])
        record["updated_at"] = em.clock.now()
        result = public(record)
    em.fire(f"{kind}.updated", kind, ident)
    return result


def _reprice(em: Emulator, invoice: dict, amount: Decimal) -> None:
    factory = Factory(em.store.data)
    invoice["grouped_lines"] = factory.lines_for_amount(
        invoice["department"]["id"], amount, "Prestaties"
    )
    total = docs.document_total(invoice["grouped_lines"], invoice["currency"])
    invoice["total"] = {**total, "due": dict(total["payable"])}
    docs.settle_invoice(invoice, em.store.data.partial_credit_lowers_due)


def _set_email(record: dict, kind: str, address: str) -> None:
    others = [e for e in record["emails"] if e["type"] != kind]
    record["emails"] = [{"type": kind, "email": address}, *others]


def _customer(em: Emulator, ref: dict | None) -> tuple[str, dict]:
    data = em.store.data
    if ref is None:
        pool = [("company", c) for c in data.companies.values()]
        pool += [("contact", c) for c in data.contacts.values()]
        return data.rng.choice(pool)
    record = data.customer(ref["type"], ref["id"])
    if record is None:
        raise invalid("customer.id", "customer does not refer to an existing contact or company")
    return ref["type"], record


def _department_for(em: Emulator, customer: dict) -> str:
    country = "NL" if customer.get("_culture") == "NL" else "BE"
    for ident, department in em.store.data.departments.items():
        if department["_country"] == country:
            return ident
    return next(iter(em.store.data.departments))


def _profile(em: Emulator, value: object) -> str | None:
    if value is not None and value not in em.store.data.profile_options:
        raise invalid("profile", f"profile must be one of {em.store.data.profile_options}")
    return value  # type: ignore[return-value]
