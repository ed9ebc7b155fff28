"""Belgian and Dutch customers for the seeded data: names, addresses, VAT numbers, IBANs.

Identifiers are *valid-looking*: Belgian VAT and bank-account numbers carry their mod-97
check digits, Dutch VAT numbers pass the mod-11 test, and every IBAN has correct
ISO 13616 check digits, so collector's validation (schwifty, python-stdnum) accepts them.
"""

from __future__ import annotations

import random
import unicodedata
import uuid

FIRST_NAMES = {
    "nl": ["Jan", "Pieter", "Lotte", "Elise", "Wout", "Sofie", "Bram", "Ine", "Lien", "Koen"],
    "fr": ["Jean", "Amélie", "Céline", "François", "Hélène", "Luc", "Noémie", "Thibault"],
    "NL": ["Sanne", "Daan", "Femke", "Joris", "Maarten", "Anouk", "Bas", "Merel", "Ruben"],
}
LAST_NAMES = {
    "nl": ["Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Wouters"],
    "fr": ["Dubois", "Lambert", "Dupont", "Leclercq", "Lejeune", "Renard", "Delvaux"],
    "NL": ["de Jong", "Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Mulder"],
}
TRADES = {
    "nl": ["Bakkerij", "Schrijnwerkerij", "Brouwerij", "Garage", "Drukkerij", "Tuinaanleg"],
    "fr": ["Boulangerie", "Menuiserie", "Brasserie", "Garage", "Imprimerie", "Jardins"],
    "NL": ["Bakkerij", "Timmerbedrijf", "Installatiebedrijf", "Drukkerij", "Hoveniers"],
}
LEGAL_FORMS = {"nl": ["BV", "NV", "CommV"], "fr": ["SRL", "SA"], "NL": ["B.V.", "V.O.F."]}
CITIES = {
    "nl": [("9000", "Gent"), ("2000", "Antwerpen"), ("3000", "Leuven"), ("8000", "Brugge")],
    "fr": [("4000", "Liège"), ("5000", "Namur"), ("7000", "Mons"), ("1000", "Bruxelles")],
    "NL": [("3511 AA", "Utrecht"), ("1012 AB", "Amsterdam"), ("5611 AA", "Eindhoven")],
}
STREETS = {
    "nl": ["Kerkstraat", "Stationsstraat", "Molenstraat", "Dorpsstraat", "Veldstraat"],
    "fr": ["Rue de la Station", "Rue du Moulin", "Chaussée de Louvain", "Rue Haute"],
    "NL": ["Dorpsstraat", "Molenweg", "Hoofdstraat", "Nieuwe Gracht", "Kerkplein"],
}
MAIL_HOSTS = {"nl": ["telenet.be", "skynet.be"], "fr": ["proximus.be"], "NL": ["ziggo.nl"]}
BANKS = {
    "BE": [("001", "GEBABEBB"), ("363", "BBRUBEBB"), ("734", "KREDBEBB")],
    "NL": [("ABNA", "ABNANL2A"), ("INGB", "INGBNL2A"), ("RABO", "RABONL2U")],
}


def new_id(rng: random.Random) -> str:
    """A UUID4 drawn from ``rng``, so the same seed gives the same ids."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def slug(text: str) -> str:
    """ASCII lower-case letters and digits only (for e-mail addresses and domains)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def iban(rng: random.Random, country: str) -> tuple[str, str]:
    """A valid IBAN and its bank's BIC."""
    bank, bic = rng.choice(BANKS[country])
    if country == "BE":
        account = int(bank) * 10**7 + rng.randrange(10**7)
        bban = f"{account:010d}{account % 97 or 97:02d}"
    else:
        bban = f"{bank}{rng.randrange(10**10):010d}"
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}", bic


def vat_number(rng: random.Random, country: str) -> str:
    """BE0 + 7 digits + mod-97 check, or NL + 9 digits (mod-11) + B01."""
    if country == "BE":
        base = rng.randrange(2 * 10**6, 10**7)
        return f"BE0{base:07d}{97 - base % 97:02d}"
    while True:
        digits = [rng.randrange(10) for _ in range(8)]
        check = sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True)) % 11
        if check < 10:
            return "NL" + "".join(map(str, digits)) + f"{check}B01"


def phone(rng: random.Random, country: str) -> str:
    """A national-format phone number like the fixtures' ``092980615``."""
    prefix = "04" if country == "BE" else "06"
    return prefix + "".join(str(rng.randrange(10)) for _ in range(8))


def address(rng: random.Random, culture: str, addressee: str | None = None) -> dict:
    """An address block (``.info`` shape); ``country`` is ISO 3166-1 alpha-2.

    Primary addresses never have an addressee (reference §8); we send it as ``null``,
    the API's way of saying "empty" (reference §2), and drop it from ``primary_address``.
    """
    postal_code, city = rng.choice(CITIES[culture])
    return {
        "addressee": addressee,
        "line_1": f"{rng.choice(STREETS[culture])} {rng.randrange(1, 180)}",
        "postal_code": postal_code,
        "city": city,
        "country": "NL" if culture == "NL" else "BE",
        "area_level_two": None,
    }


def language_for(rng: random.Random, culture: str) -> str:
    """Customers speak nl or fr (Belgium) or nl (Netherlands); a few prefer English."""
    if rng.random() < 0.15:
        return "en"
    return "fr" if culture == "fr" else "nl"


def person_name(rng: random.Random, culture: str) -> tuple[str, str]:
    """A first and last name typical for the culture."""
    return rng.choice(FIRST_NAMES[culture]), rng.choice(LAST_NAMES[culture])


def company_name(rng: random.Random, culture: str) -> str:
    """E.g. ``Bakkerij Peeters BV`` or ``Menuiserie Dubois SRL``."""
    trade, family = rng.choice(TRADES[culture]), rng.choice(LAST_NAMES[culture])
    return f"{trade} {family} {rng.choice(LEGAL_FORMS[culture])}"
