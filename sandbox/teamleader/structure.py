"""The account's fixed records: account, user, departments, tax rates, custom field
definitions and payment methods.

Their ids are uuid5 values that do not depend on the seed, so demos, docs and tests can
name them (``python -m sandbox.teamleader --describe`` prints them).
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from . import people
from .factory import Dataset

NAMESPACE = uuid.UUID("5b0e5a3e-2f4c-4a51-9c1e-7d3f0b6c8a21")


def fixed_id(name: str) -> str:
    """A seed-independent id (uuid5) for a structural record."""
    return str(uuid.uuid5(NAMESPACE, name))


ACCOUNT_ID = fixed_id("account")
USER_ID = fixed_id("user")
DEPARTMENT_IDS = {"BE": fixed_id("department/BE"), "NL": fixed_id("department/NL")}
INVOICE_PROFILE_FIELD_ID = fixed_id("customFieldDefinition/invoice/payment-profile")
SUBSCRIPTION_PROFILE_FIELD_ID = fixed_id("customFieldDefinition/subscription/payment-profile")
DEBTOR_NUMBER_FIELD_ID = fixed_id("customFieldDefinition/company/debtor-number")
TAX_RATES = {"BE": ("0.21", "0.06", "0.00"), "NL": ("0.21", "0.09", "0.00")}
PAYMENT_METHODS = [
    ("Bank transfer", "active"),
    ("Direct debit", "active"),
    ("Credit card", "active"),
    ("Payment link", "active"),
    ("Cash", "active"),
    ("Coupons", "archived"),
]
DEPARTMENTS = {
    "BE": {
        "name": "Klaverblad Services BV",
        "emails": ("info@klaverblad.be", "facturatie@klaverblad.be"),
        "address": {"line_1": "Dok Noord 7", "postal_code": "9000", "city": "Gent"},
        "telephone": "092123456",
        "website": "https://www.klaverblad.be",
    },
    "NL": {
        "name": "Klaverblad Services Nederland B.V.",
        "emails": ("info@klaverblad.nl", "facturen@klaverblad.nl"),
        "address": {"line_1": "Oudegracht 120", "postal_code": "3511 AX", "city": "Utrecht"},
        "telephone": "0302345678",
        "website": "https://www.klaverblad.nl",
    },
}
CREATED = datetime(2019, 3, 1, 9, 0, tzinfo=UTC)


def add_structure(data: Dataset, now: datetime) -> None:
    """Add account, user, departments, tax rates, definitions and payment methods."""
    data.account = {"type": "account", "id": ACCOUNT_ID}
    data.user = _user()
    for country in ("BE", "NL"):
        data.departments[DEPARTMENT_IDS[country]] = _department(country)
        for rate in TAX_RATES[country]:
            ident = fixed_id(f"taxRate/{country}/{rate}")
            data.tax_rates[ident] = {
                "department_id": DEPARTMENT_IDS[country],
                "rate": Decimal(rate),
            }
    for definition in _definitions(data.profile_options):
        data.custom_fields[definition["id"]] = definition
    for name, status in PAYMENT_METHODS:
        ident = fixed_id(f"paymentMethod/{name}")
        data.payment_methods[ident] = {"id": ident, "name": name, "status": status}


def _user() -> dict:
    return {
        "id": USER_ID,
        "account": {"type": "account", "id": ACCOUNT_ID},
        "first_name": "Griet",
        "last_name": "Vermeulen",
        "email": "griet@klaverblad.be",
        "email_verification_status": "confirmed",
        "telephones": [{"type": "phone", "number": "092123456"}],
        "language": "nl-BE",
        "function": "Finance",
        "time_zone": "Europe/Brussels",
        "preferences": {
            "invoiceable": True,
            "historic_time_tracking_limit": None,
            "whitelabeling": False,
        },
    }


def _department(country: str) -> dict:
    spec = DEPARTMENTS[country]
    fixed = random.Random(f"department/{country}")  # str seeds are stable across runs
    iban, bic = people.iban(fixed, country)
    primary, invoicing = spec["emails"]
    return {
        "id": DEPARTMENT_IDS[country],
        "name": spec["name"],
        "vat_number": people.vat_number(fixed, country),
        "currency": "EUR",
        "emails": [
            {"type": "primary", "email": primary},
            {"type": "invoicing", "email": invoicing},
        ],
        "status": "active",
        "address": {**spec["address"], "country": country, "area_level_two": None},
        "telephones": [{"type": "phone", "number": spec["telephone"]}],
        "website": spec["website"],
        "iban": iban,
        "bic": bic,
        "fiscal_regime": None,  # an Italian-only setting (fixture shows "RF01")
        "created_at": CREATED,
        "_country": country,
        "_default": country == "BE",
        "_template_id": fixed_id(f"documentTemplate/{country}"),
    }


def _definitions(options: list[str]) -> list[dict]:
    """Profile selectors in invoice and subscription context, plus a company text field."""
    definitions = []
    for context, ident in (
        ("invoice", INVOICE_PROFILE_FIELD_ID),
        ("subscription", SUBSCRIPTION_PROFILE_FIELD_ID),
    ):
        # Options are [{id, value}] since API version 2023-09-26 (reference §9).
        choices = [
            {"id": fixed_id(f"option/{context}/{value}"), "value": value} for value in options
        ]
        configuration = {"options": choices, "extra_option_allowed": False}
        definitions.append(
            _definition(ident, context, "single_select", "Payment profile", configuration)
        )
    definitions.append(
        _definition(DEBTOR_NUMBER_FIELD_ID, "company", "single_line", "Debtor number")
    )
    return definitions


def _definition(
    ident: str, context: str, kind: str, label: str, configuration: dict | None = None
) -> dict:
    return {
        "id": ident,
        "context": context,
        "type": kind,
        "label": label,
        "group": "Collections",
        "required": False,
        "configuration": configuration,
    }
