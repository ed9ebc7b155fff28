"""The signing form's values: what the customer typed, cleaned, or why it is refused —
per field, in the page's language, in plain words (the shared mandate rules speak to the
team, not to customers)."""

from __future__ import annotations

import re

from flask_babel import gettext as _

from collector.accounts.creditor import BankDetailError, read_iban
from collector.core.errors import Invalid
from collector.direct_debit import mandate_text, mandates

# SEPA countries a debtor may live in (the address is printed on the mandate).
# fmt: off
COUNTRIES = (
    "AD", "AT", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB",
    "GI", "GR", "HR", "HU", "IE", "IS", "IT", "LI", "LT", "LU", "LV", "MC", "MT", "NL",
    "NO", "PL", "PT", "RO", "SE", "SI", "SK", "SM", "VA",
)
# fmt: on
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
LIMITS = {"account_holder": 70, "signatory": 70, "street": 140, "postal_code": 16, "city": 70}


def check(data: dict, schemes: tuple[str, ...]) -> tuple[dict, mandates.Account]:
    """The form's values cleaned, or ``Invalid`` with a translated reason per field."""
    values = {name: " ".join(str(data.get(name) or "").split()) for name in LIMITS}
    errors: dict[str, list[str]] = {}
    for name, most in LIMITS.items():
        if not values[name]:
            errors[name] = [_("Fill this in.")]
        elif len(values[name]) > most:
            errors[name] = [_("At most %(most)s characters.", most=most)]
    country = str(data.get("country") or "").strip().upper()
    if country not in COUNTRIES:
        errors["country"] = [_("Choose the country of the address.")]
    email = str(data.get("email") or "").strip()
    if not EMAIL.fullmatch(email) or len(email) > 254:
        errors["email"] = [_("Enter a valid email address: the copy of the mandate goes there.")]
    scheme = str(data.get("scheme") or mandate_text.CORE)
    if scheme not in schemes:
        errors["scheme"] = [_("This kind of mandate cannot be signed for this account.")]
    account = mandates.check_account(str(data.get("iban") or ""), "")
    if account.problems:
        errors["iban"] = [_iban_problem(str(data.get("iban") or ""))]
    if data.get("consent") not in ("1", "on", "yes", True):
        errors["consent"] = [_("Tick the box to confirm that you sign this mandate.")]
    if errors:
        raise Invalid(errors)
    return {**values, "country": country, "email": email, "scheme": scheme}, account


def _iban_problem(text: str) -> str:
    """Why the IBAN is refused, for the customer (the shared rules speak to the team)."""
    if not text.strip():
        return _("Enter the IBAN of the account to debit.")
    try:
        iban = read_iban(text)
    except BankDetailError:  # schwifty's reasons are technical: say it plainly
        return _("This is not a valid IBAN: check it against your bank statement.")
    if not iban.in_sepa_zone:
        return _(
            "Accounts in %(country)s are outside SEPA and cannot be debited.",
            country=iban.country_code,
        )
    return _("The bank of this IBAN is not known; ask us for another way to pay.")
