"""Contact and company records (``.info`` shape) for the seeded account."""

from __future__ import annotations

import random
from datetime import datetime

from . import people
from .documents import link

INVOICING_MAILBOX = {"nl": "boekhouding", "fr": "comptabilite", "NL": "administratie"}
POSITIONS = {"nl": "Zaakvoerder", "fr": "Gérant", "NL": "Eigenaar"}


def _country(culture: str) -> str:
    return "NL" if culture == "NL" else "BE"


def contact(rng: random.Random, culture: str, added_at: datetime) -> dict:
    """A person; contacts only have a primary e-mail (reference §8)."""
    first, last = people.person_name(rng, culture)
    ident = people.new_id(rng)
    iban, bic = people.iban(rng, _country(culture))
    email = f"{people.slug(first)}.{people.slug(last)}@{rng.choice(people.MAIL_HOSTS[culture])}"
    return {
        "id": ident,
        "first_name": first,
        "last_name": last,
        "status": "active",
        "salutation": None,
        "vat_number": None,
        "emails": [{"type": "primary", "email": email}],
        "telephones": [{"type": "mobile", "number": people.phone(rng, _country(culture))}],
        "website": None,
        "addresses": [{"type": "primary", "address": people.address(rng, culture)}],
        "gender": "unknown",
        "birthdate": None,
        "iban": iban,
        "bic": bic,
        "national_identification_number": None,
        "companies": [],
        "language": people.language_for(rng, culture),
        "payment_term": None,
        "invoicing_preferences": {"electronic_invoicing_address": None},
        "remarks": None,
        "tags": [],
        "custom_fields": [],
        "marketing_mails_consent": False,
        "added_at": added_at,
        "updated_at": added_at,
        "web_url": f"https://focus.teamleader.eu/contact_detail.php?id={ident}",
        "price_list": None,
        "_culture": culture,
    }


def company(rng: random.Random, culture: str, added_at: datetime, user_id: str) -> dict:
    """A business customer with a VAT number and primary + invoicing e-mails (reference §8)."""
    name = people.company_name(rng, culture)
    ident = people.new_id(rng)
    country = _country(culture)
    domain = people.slug(name.rsplit(" ", 1)[0]) + (".nl" if country == "NL" else ".be")
    iban, bic = people.iban(rng, country)
    addresses = [{"type": "primary", "address": people.address(rng, culture)}]
    if rng.random() < 0.3:
        invoicing = people.address(rng, culture, addressee=INVOICING_MAILBOX[culture].title())
        addresses.append({"type": "invoicing", "address": invoicing})
    return {
        "id": ident,
        "name": name,
        "status": "active",
        "business_type": None,
        "vat_number": people.vat_number(rng, country),
        "national_identification_number": None,
        "emails": [
            {"type": "primary", "email": f"info@{domain}"},
            {"type": "invoicing", "email": f"{INVOICING_MAILBOX[culture]}@{domain}"},
        ],
        "telephones": [{"type": "phone", "number": people.phone(rng, country)}],
        "website": f"https://www.{domain}",
        "addresses": addresses,
        "iban": iban,
        "bic": bic,
        "language": people.language_for(rng, culture),
        "preferred_currency": "EUR",
        "payment_term": {"type": "after_invoice_date", "days": 30},
        "invoicing_preferences": {"electronic_invoicing_address": None},
        "responsible_user": link("user", user_id),
        "remarks": None,
        "added_at": added_at,
        "updated_at": added_at,
        "web_url": f"https://focus.teamleader.eu/company_detail.php?id={ident}",
        "tags": [],
        "custom_fields": [],
        "marketing_mails_consent": False,
        "price_list": None,
        "_culture": culture,
        "_contact_ids": [],
    }


def employ(person: dict, firm: dict) -> None:
    """Link a contact to a company as its decision maker (both directions)."""
    person["companies"].append(
        {
            "position": POSITIONS[firm["_culture"]],
            "secondary_position": None,
            "division": None,
            "decision_maker": True,
            "company": link("company", firm["id"]),
        }
    )
    firm["_contact_ids"].append(person["id"])
