"""``POST crm/Accounts``: create a relation (reference §4).

``Name`` is mandatory; ``Code`` is right-aligned in 18 characters and, when absent, the
highest numeric code + 1; ``Status`` defaults to ``A`` (none), and only ``C`` makes the
account usable as a sales customer. ``VATNumber`` is kept as given, not normalised (how
Exact stores it is not documented; the strict reading). Failures are business errors (HTTP
500).
"""

from __future__ import annotations

import re
import uuid

from . import entities, errors
from .context import Context
from .seed import pad_left

STATUSES = ("A", "S", "P", "C")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
COUNTRY_NAMES = {"BE": "Belgium", "NL": "Netherlands", "FR": "France", "DE": "Germany"}


def create(ctx: Context, values: dict) -> dict:
    """Validate and store a new account; return the record."""
    table = ctx.division.table("crm/Accounts")
    messages = []
    if not str(values.get("Name") or "").strip():
        messages.append("Mandatory: Name")
    code = _code(values.get("Code"), table, messages)
    status = values.get("Status") or "A"
    if status not in STATUSES:
        messages.append("Invalid: Status")
    if values.get("Email") and not EMAIL.match(values["Email"]):
        messages.append("Invalid: Email")
    condition = None
    if values.get("PaymentConditionSales"):
        condition = ctx.find("cashflow/PaymentConditions", "Code", values["PaymentConditionSales"])
        if condition is None:
            messages.append("Invalid reference: Payment condition")
    if messages:
        raise errors.validation(messages)
    record = entities.lookup("crm/Accounts").blank()
    record.update(values)
    record.update(ctx.audit())
    country = str(values.get("Country") or "").strip().upper()
    record.update(
        ID=uuid.uuid4(),
        Code=code,
        Status=status,
        Type="A",
        Blocked=bool(values.get("Blocked")),
        IsSales=bool(values.get("IsSales")),
        IsPurchase=bool(values.get("IsPurchase")),
        IsSupplier=bool(values.get("IsSupplier")),
        Country=country.ljust(3) if country else None,
        CountryName=COUNTRY_NAMES.get(country),
        PaymentConditionSalesDescription=condition["Description"] if condition else None,
    )
    table[record["ID"]] = record
    return record


def _code(given: object, table: dict, messages: list[str]) -> str | None:
    if given is None or not str(given).strip():
        numbers = [int(r["Code"]) for r in table.values() if str(r["Code"]).strip().isdigit()]
        return pad_left(max(numbers, default=0) + 1)
    text = str(given).strip()
    if len(text) > 18:
        messages.append("Invalid: Code (maximum 18 characters)")
        return None
    padded = pad_left(text)
    if any(r["Code"] == padded for r in table.values()):
        messages.append(f"Code {text} already exists")
    return padded
