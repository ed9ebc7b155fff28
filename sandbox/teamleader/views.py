"""Records → API shapes. ``.list`` items carry fewer keys than ``.info`` (reference §4,
§6.2, §8), and internal ``_`` keys never leave the emulator.

Every function returns a deep copy, so the caller can serialise it after releasing the
store lock.
"""

from __future__ import annotations

from .documents import ZERO, money


def public(value: object) -> object:
    """Deep copy without internal (``_``-prefixed) keys."""
    if isinstance(value, dict):
        return {k: public(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [public(v) for v in value]
    return value


def pick(record: dict, keys: tuple[str, ...]) -> dict:
    """The given keys of a record, in the given order (missing ones as ``null``)."""
    return {key: record.get(key) for key in keys}


INVOICE_LIST_KEYS = (
    "id",
    "department",
    "invoice_number",
    "invoice_date",
    "status",
    "due_on",
    "paid",
    "paid_at",
    "sent",
    "purchase_order_number",
    "payment_reference",
    "invoicee",
    "total",
    "currency_exchange_rate",
    "created_at",
    "updated_at",
    "web_url",
    "file",
    "deal",
    "project",
    "subscription",
)
LIST_TOTAL_KEYS = ("tax_exclusive", "tax_inclusive", "payable", "taxes", "due")
LIST_INVOICEE_KEYS = ("name", "vat_number", "customer", "for_attention_of")
CREDIT_NOTE_LIST_KEYS = (
    "id",
    "department",
    "credit_note_number",
    "credit_note_date",
    "status",
    "invoice",
    "paid",
    "paid_at",
    "invoicee",
    "total",
    "created_at",
    "updated_at",
)
SUBSCRIPTION_LIST_KEYS = (
    "id",
    "title",
    "note",
    "status",
    "department",
    "invoicee",
    "project",
    "starts_on",
    "ends_on",
    "next_renewal_date",
    "billing_cycle",
    "total",
    "web_url",
    "created_at",
)
CONTACT_LIST_KEYS = (
    "id",
    "first_name",
    "last_name",
    "status",
    "salutation",
    "emails",
    "telephones",
    "website",
    "primary_address",
    "gender",
    "birthdate",
    "iban",
    "bic",
    "national_identification_number",
    "language",
    "payment_term",
    "invoicing_preferences",
    "tags",
    "marketing_mails_consent",
    "added_at",
    "updated_at",
    "web_url",
)
COMPANY_LIST_KEYS = (
    "id",
    "name",
    "status",
    "business_type",
    "vat_number",
    "national_identification_number",
    "emails",
    "telephones",
    "website",
    "primary_address",
    "iban",
    "bic",
    "language",
    "preferred_currency",
    "payment_term",
    "invoicing_preferences",
    "responsible_user",
    "marketing_mails_consent",
    "added_at",
    "updated_at",
    "web_url",
    "tags",
)
DEPARTMENT_LIST_KEYS = ("id", "name", "vat_number", "currency", "emails", "status")


def _late_fees(invoice: dict) -> dict:
    """Totals added by ``includes=late_fees``; no late-fee rules are configured, so zero."""
    currency, due = invoice["currency"], invoice["total"]["due"]["amount"]
    return {
        "due_incasso_inclusive": money(due, currency),
        "fixed_late_fee": money(ZERO, currency),
        "interest": money(ZERO, currency),
    }


def invoice_list_item(invoice: dict, includes: set[str]) -> dict:
    """``invoices.list`` item: no custom fields, payments or payment term, but ``subscription``."""
    item = pick(invoice, INVOICE_LIST_KEYS)
    item["invoicee"] = pick(invoice["invoicee"], LIST_INVOICEE_KEYS)
    item["total"] = pick(invoice["total"], LIST_TOTAL_KEYS)
    if "late_fees" in includes:
        item["total"].update(_late_fees(invoice))
    return public(item)


def invoice_info(invoice: dict, includes: set[str]) -> dict:
    """``invoices.info``: the full invoice, without the list-only ``subscription`` link."""
    item = {k: v for k, v in invoice.items() if k != "subscription"}
    if "late_fees" in includes:
        item["total"] = {**invoice["total"], **_late_fees(invoice)}
    return public(item)


def credit_note_list_item(note: dict) -> dict:
    """``creditNotes.list`` item (no ``due``: credit notes have no balance)."""
    item = pick(note, CREDIT_NOTE_LIST_KEYS)
    item["invoicee"] = pick(note["invoicee"], ("name", "vat_number", "customer"))
    item["total"] = pick(note["total"], ("tax_exclusive", "tax_inclusive", "payable", "taxes"))
    return public(item)


def credit_note_info(note: dict) -> dict:
    """``creditNotes.info``."""
    return public(note)


def subscription_list_item(sub: dict) -> dict:
    """``subscriptions.list`` item."""
    return public(pick(sub, SUBSCRIPTION_LIST_KEYS))


def subscription_info(sub: dict) -> dict:
    """``subscriptions.info``."""
    return public(sub)


def _primary_address(record: dict) -> dict | None:
    for entry in record["addresses"]:
        if entry["type"] == "primary":
            return {k: v for k, v in entry["address"].items() if k != "addressee"}
    return None


def _optional(item: dict, record: dict, includes: set[str]) -> dict:
    # custom_fields and price_list appear on .list only when asked for (reference §3, §8).
    if "custom_fields" in includes:
        item["custom_fields"] = record["custom_fields"]
    if "price_list" in includes:
        item["price_list"] = record["price_list"]
    return public(item)


def contact_list_item(contact: dict, includes: set[str]) -> dict:
    """``contacts.list`` item: ``primary_address`` instead of ``addresses``."""
    item = pick(contact, CONTACT_LIST_KEYS)
    item["primary_address"] = _primary_address(contact)
    return _optional(item, contact, includes)


def contact_info(contact: dict) -> dict:
    """``contacts.info``."""
    return public({k: v for k, v in contact.items() if k != "price_list"})


def company_list_item(company: dict, includes: set[str]) -> dict:
    """``companies.list`` item."""
    item = pick(company, COMPANY_LIST_KEYS)
    item["primary_address"] = _primary_address(company)
    return _optional(item, company, includes)


def company_info(company: dict, includes: set[str], contacts: dict) -> dict:
    """``companies.info``; related companies/contacts only with ``includes``."""
    item = {k: v for k, v in company.items() if k != "price_list"}
    if "related_companies" in includes:
        item["related_companies"] = []
    if "related_contacts" in includes:
        item["related_contacts"] = [
            _related(contacts[i], company["id"]) for i in company["_contact_ids"]
        ]
    return public(item)


def _related(contact: dict, company_id: str) -> dict:
    link = next(c for c in contact["companies"] if c["company"]["id"] == company_id)
    return {
        "type": "contact",
        "id": contact["id"],
        "position": link["position"],
        "secondary_position": link["secondary_position"],
        "division": link["division"],
        "is_decision_maker": link["decision_maker"],
    }


def department_list_item(department: dict) -> dict:
    """``departments.list`` item."""
    return public(pick(department, DEPARTMENT_LIST_KEYS))


def department_info(department: dict) -> dict:
    """``departments.info``."""
    return public({k: v for k, v in department.items() if k != "created_at"})
