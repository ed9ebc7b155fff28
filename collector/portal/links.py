"""The customer's portal address: the token that opens it, rotated on an admin's request
(the old address then answers 404), and the link to sign a direct-debit mandate online.

The token is 256 random bits (``Customer.portal_token``), kept as is rather than hashed
because invitations and reminders carry the address: a hash could not be mailed again.
"""

from __future__ import annotations

import sqlalchemy as sa

from collector.accounts import audit
from collector.direct_debit import signing
from collector.documents.models import Customer
from collector.documents.models.customer import new_portal_token
from collector.extensions import db

TOKEN_LENGTH = 43  # secrets.token_urlsafe(32)
TOKEN_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
PATH = "/portal/"


def find(token: str) -> Customer | None:
    """The customer whose portal ``token`` opens, or None; malformed tokens never reach
    the database."""
    if len(token) != TOKEN_LENGTH or not set(token) <= TOKEN_ALPHABET:
        return None
    query = sa.select(Customer).where(Customer.portal_token == token)
    return db.session.scalars(query).first()


def address(base_url: str, customer: Customer) -> str:
    """The portal's full address for ``customer`` under the public ``base_url``."""
    return base_url.rstrip("/") + PATH + customer.portal_token


def rotate(customer: Customer, actor: str) -> Customer:
    """Give the customer a new portal address; the old one stops working at once. The
    audit log keeps who did it (never the token). Commits."""
    customer.portal_token = new_portal_token()
    audit.record("portal.rotate", target=f"customer:{customer.id}", actor=actor)
    db.session.commit()
    return customer


def mandate_link(customer: Customer) -> str | None:
    """Where ``customer`` signs a direct-debit mandate online, when their profile collects
    by direct debit and they have none yet (``direct_debit.signing``); else None."""
    return signing.offer_to(customer)
