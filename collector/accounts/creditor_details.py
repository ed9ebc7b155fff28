"""How a creditor shows itself to customers, checked before it is stored: its address,
contact email and phone, the sender of its mails, and its logo (PNG or JPEG, small).

An SVG logo is refused rather than cleaned: it is a document that can carry scripts and
links, and the payment page shows the logo to every customer of the entity.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _

MAX_ADDRESS = 300
MAX_ADDRESS_LINES = 5
MAX_EMAIL = 254
MAX_PHONE = 40
MAX_SENDER_NAME = 140
MAX_LOGO = 256 * 1024  # bytes: a logo, not a photo; the page stays quick on a phone

# What a person types as a phone number: digits and the usual separators.
PHONE = re.compile(r"\+?[0-9 ()./-]{6,}")
# One address, no display name: the sender's name is a field of its own.
EMAIL = re.compile(r"[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+")
# The first bytes of the formats a logo may have.
SIGNATURES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


class LogoRefused(ValueError):
    """The uploaded file cannot be a logo; the message says why, for the user."""


def check(data: dict, errors: dict[str, list[str]]) -> dict[str, str]:
    """The address, contact and sender fields of ``data`` cleaned; problems go in ``errors``."""
    clean = {name: (data.get(name) or "").strip() for name in FIELDS}
    clean["address"] = "\n".join(
        line.strip() for line in clean["address"].splitlines() if line.strip()
    )
    if len(clean["address"]) > MAX_ADDRESS:
        errors["address"] = [_("At most %(num)s characters.", num=MAX_ADDRESS)]
    elif len(clean["address"].splitlines()) > MAX_ADDRESS_LINES:
        errors["address"] = [_("At most %(num)s lines.", num=MAX_ADDRESS_LINES)]
    for name in ("contact_email", "sender_email"):
        clean[name] = clean[name].lower()
        if clean[name] and (len(clean[name]) > MAX_EMAIL or not EMAIL.fullmatch(clean[name])):
            errors[name] = [_("One email address, such as %(example)s.", example=EXAMPLE)]
    phone = clean["contact_phone"]
    if phone and (len(phone) > MAX_PHONE or not PHONE.fullmatch(phone)):
        errors["contact_phone"] = [_("Digits, spaces and + ( ) . / - only, e.g. +32 9 123 45 67.")]
    if len(clean["sender_name"]) > MAX_SENDER_NAME:
        errors["sender_name"] = [_("At most %(num)s characters.", num=MAX_SENDER_NAME)]
    if clean["sender_name"] and not clean["sender_email"] and "sender_email" not in errors:
        errors["sender_email"] = [_("A sender's name needs the sender's address too.")]
    return clean


FIELDS = ("address", "contact_email", "contact_phone", "sender_name", "sender_email")
EXAMPLE = "finance@example.com"


def logo_type(content: bytes) -> str:
    """The media type of an uploaded logo: PNG or JPEG by its first bytes, within the size
    limit; raises ``LogoRefused`` otherwise (an SVG included)."""
    if not content:
        raise LogoRefused(_("The file is empty."))
    if len(content) > MAX_LOGO:
        raise LogoRefused(_("A logo may be at most %(num)s kB.", num=MAX_LOGO // 1024))
    for signature, media_type in SIGNATURES.items():
        if content.startswith(signature):
            return media_type
    if b"<svg" in content[:2048].lower():
        raise LogoRefused(
            _("SVG logos are not accepted (they can carry scripts): upload a PNG or JPEG.")
        )
    raise LogoRefused(_("A logo is a PNG or JPEG image."))
