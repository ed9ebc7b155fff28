"""Online mandate signing: a customer signs a SEPA direct-debit mandate on their own page,
and revokes it there.

The page is ``/mandate/<token>``: one unguessable token per customer (``SigningLink``),
made when first needed (``link_for``) and carried by the invitation, the payment page
and the link a team member sends from the customer's page. The customer (or their
company's signatory) gives the account holder's name, the IBAN (checked with schwifty,
the BIC derived, accounts outside SEPA refused), the address and their own name and
email, ticks the confirmation and presses Sign. The mandate is SEPA Core; B2B only where
the customer's profile allows it (``Profile.allow_b2b_mandates``) and the customer is a
company (B2B debtors are never consumers).

What signing records (``MandateSignature``): the time (UTC), the IP address and the user
agent, the signatory's name and email, the exact mandate text the page showed
(``mandate_text``, kept verbatim) and its language, the creditor named in it, and the
PDF made of it (``mandate_pdf``, kept in the document store with the customer). The
``Mandate`` is the one every other path makes: active, never used (so its first
collection is FRST), on the customer's profile: the next collection run takes it.

The mandate reference (UMR) is assigned by this rule::

    M-<customer id>-<signing date YYYYMMDD>-<n>

where ``n`` is 1, or the next number free on that day when the customer signed before
the same day or the reference is taken by an uploaded mandate. It uses letters, digits
and "-" only, never more than 35 characters (a 10-digit customer id gives 25), and is
unique across the service — hence unique per creditor, whichever entity collects. The
page shows the reference before the customer signs, since it is part of the text they
sign; if it was taken meanwhile (two tabs), they are shown the new text and sign again.

The text is part of what is signed: the form carries a digest of the text the page
showed, and signing refuses when the text it would store differs (the creditor's
details changed, the day turned, the reference was taken) — the page then shows the
new text to sign.

Revocation from the same page, after a confirmation step, is ``signing_revoke``. Both
events are written on the timelines of the customer's open documents for the team.

``signed`` is sent after a signature is committed; the mail domain connects to it and
mails the signatory a copy with the PDF (``mail.mandate_copy``).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from blinker import Namespace
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from collector.accounts import entities
from collector.accounts.creditor import grouped
from collector.accounts.models import Creditor
from collector.core import clock
from collector.core.columns import utcnow
from collector.core.errors import Conflict, Invalid
from collector.core.storage import DocumentStore
from collector.direct_debit import mandate_pdf, mandate_text, mandates, signing_form
from collector.direct_debit.models import (
    Mandate,
    MandateScheme,
    MandateSignature,
    MandateStatus,
    SigningLink,
)
from collector.documents import timeline
from collector.documents.models import Customer, CustomerKind, DocumentKind, Invoice, InvoiceState
from collector.extensions import db
from collector.runtime.wordings import N_, Sentence

TOKEN_LENGTH = 43  # secrets.token_urlsafe(32): 256 bits
TOKEN_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
ACTOR = "customer:online"
PATH = "/mandate/"
# The documents whose timelines hear of a signature or a revocation: those still open.
OPEN_STATES = (InvoiceState.BOOKED, InvoiceState.EXPIRED, InvoiceState.PENDING)
REVOKED_REASON = "Revoked by the customer on their signing page"

SIGNED = N_("Mandate %(reference)s signed online by %(name)s.")
REVOKED = N_("Mandate %(reference)s revoked online by the customer.")

_signals = Namespace()
# A mandate was signed online (committed). Sender: the ``MandateSignature`` id.
signed = _signals.signal("mandate_signed")
# A team member asked to mail the customer their signing link. Sender: the customer id.
link_requested = _signals.signal("signing_link_requested")


class TextChanged(Exception):
    """The text the customer saw is not the one signing would store: show it again."""


# -- the link ----------------------------------------------------------------------------


def find(token: str) -> SigningLink | None:
    """The link behind ``token``, or None; malformed tokens never reach the database."""
    if len(token) != TOKEN_LENGTH or not set(token) <= TOKEN_ALPHABET:
        return None
    return db.session.scalars(sa.select(SigningLink).where(SigningLink.token == token)).first()


def ensure_link(customer: Customer, actor: str = "system", *, commit: bool = True) -> SigningLink:
    """The customer's signing link, made when they have none yet: committed, or with
    ``commit=False`` only written into the caller's transaction (a mail being composed
    is committed with its row before it is sent)."""
    link = existing_link(customer.id)
    if link is not None:
        return link
    link = SigningLink(
        customer_id=customer.id, token=secrets.token_urlsafe(32), created_by=actor[:128]
    )
    try:
        with db.session.begin_nested():
            db.session.add(link)
    except IntegrityError:  # another request made it first: use theirs
        return existing_link(customer.id)
    if commit:
        db.session.commit()
    return link


def existing_link(customer_id: int) -> SigningLink | None:
    query = sa.select(SigningLink).where(SigningLink.customer_id == customer_id)
    return db.session.scalars(query).first()


def send_link(customer: Customer, actor: str) -> None:
    """Have the customer's signing link mailed to them (the mail domain sends it);
    ``Conflict`` when they have no email address or nothing to sign."""
    if not customer.email:
        raise Conflict(_("This customer has no email address to send the link to."))
    if not schemes_for(customer):
        raise Conflict(_("The customer's profile does not collect by direct debit."))
    ensure_link(customer, actor)
    link_requested.send(customer.id)


def offer_for(invoice: Invoice, *, commit: bool = True) -> str | None:
    """``offer_to`` the document's customer when the document is on the customer's
    profile: for the invitation and the payment page."""
    customer = invoice.customer
    same = customer is not None and customer.profile_id == invoice.profile_id
    return offer_to(customer, commit=commit) if same else None


def offer_to(customer: Customer, *, commit: bool = True) -> str | None:
    """The path of ``customer``'s signing page (made, committed) when their profile
    collects by direct debit, a creditor can collect and no mandate is active; else None."""
    if not schemes_for(customer) or creditor_of(customer) is None:
        return None
    if mandates.active_mandate(customer.id, customer.profile_id) is not None:
        return None
    return path_for(ensure_link(customer, commit=commit))


def path_for(link: SigningLink) -> str:
    return PATH + link.token


def link_for(customer: Customer) -> str:
    """The absolute address of ``customer``'s signing page, made if needed (commits then).
    For the customer portal and the mails that ask for a new mandate."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return base + path_for(ensure_link(customer))


# -- what the page shows -------------------------------------------------------------------


@dataclass(frozen=True)
class Situation:
    """Where the customer stands: what they may sign, and what they signed."""

    customer: Customer
    creditor: Creditor | None
    schemes: tuple[str, ...]  # CORE, and B2B where allowed; empty: nothing to sign here
    active: Mandate | None  # their active mandate on their profile, if any
    signature: MandateSignature | None  # its online signature, if it was signed here

    @property
    def can_sign(self) -> bool:
        return bool(self.schemes) and self.active is None and self.creditor is not None


def creditor_of(customer: Customer) -> Creditor | None:
    """Who the customer gives the mandate to: the creditor of the company entity of their
    latest document, else the company default; None when no creditor can collect."""
    department = db.session.scalar(
        sa.select(Invoice.department_id)
        .where(Invoice.customer_id == customer.id)
        .order_by(Invoice.invoice_date.desc(), Invoice.id.desc())
        .limit(1)
    )
    found = entities.creditor_of(department)
    return found if found is not None and found.can_collect else None


def schemes_for(customer: Customer) -> tuple[str, ...]:
    """The schemes the customer may sign: none unless their profile collects by direct
    debit; B2B besides Core where the profile allows it and the customer is a company."""
    profile = customer.profile
    if profile is None or not profile.allow_direct_debit:
        return ()
    if profile.allow_b2b_mandates and customer.kind == CustomerKind.COMPANY:
        return (mandate_text.CORE, mandate_text.B2B)
    return (mandate_text.CORE,)


def situation(link: SigningLink) -> Situation:
    customer = link.customer
    active = None
    if customer.profile_id is not None:
        active = mandates.active_mandate(customer.id, customer.profile_id)
    signature = None
    if active is not None:
        signature = signature_of(active.id)
    return Situation(customer, creditor_of(customer), schemes_for(customer), active, signature)


def signature_of(mandate_id: int) -> MandateSignature | None:
    query = sa.select(MandateSignature).where(MandateSignature.mandate_id == mandate_id)
    return db.session.scalars(query).first()


def signed_here(link: SigningLink, mandate_id: int) -> MandateSignature | None:
    """The signature of ``mandate_id`` if it is one of this link's customer's."""
    signature = signature_of(mandate_id)
    if signature is None or signature.mandate.customer_id != link.customer_id:
        return None
    return signature


def next_reference(customer: Customer, on: datetime | None = None) -> str:
    """The reference the next mandate the customer signs gets (the rule is in the module
    docstring). Taken references of every mandate, any case, are skipped."""
    day = clock.local_date(on or utcnow())
    prefix = f"M-{customer.id}-{day:%Y%m%d}-"
    taken = set(
        db.session.scalars(
            sa.select(Mandate.reference_key).where(Mandate.reference_key.like(prefix + "%"))
        )
    )
    number = 1
    while f"{prefix}{number}" in taken:
        number += 1
    return f"{prefix}{number}"


def facts(situation: Situation, scheme: str, reference: str) -> mandate_text.MandateFacts:
    payee = situation.creditor
    if payee is None:
        raise Conflict(_("Direct debit cannot be set up for this account at the moment."))
    return mandate_text.MandateFacts(
        creditor=payee.name,
        creditor_address=", ".join(payee.address_lines),
        creditor_identifier=payee.creditor_identifier or "",
        reference=reference,
        scheme=scheme,
        prenotification_days=payee.prenotification_days,
    )


def digest(text: str) -> str:
    """What the form carries to prove which text the customer saw."""
    return hashlib.sha256(text.encode()).hexdigest()


# -- signing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """Who is on the other end: for the record."""

    ip_address: str
    user_agent: str
    language: str  # nl, fr or en: the page's


def sign(
    link: SigningLink,
    data: dict,
    who: Request,
    store: DocumentStore,
    now: datetime | None = None,
) -> MandateSignature:
    """Record the mandate the customer signed with ``data`` (the form: account_holder,
    iban, street, postal_code, city, country, signatory, email, consent, scheme,
    reference, digest). Refuses with ``Invalid`` (nothing written), ``Conflict``
    (nothing to sign: a mandate is active, the profile does not debit) or
    ``TextChanged``. Commits, then sends ``signed``."""
    now = now or utcnow()
    # One signature at a time per customer: the link's row is the lock.
    db.session.scalars(
        sa.select(SigningLink).where(SigningLink.id == link.id).with_for_update()
    ).one()
    found = situation(link)
    if found.active is not None:
        db.session.rollback()
        raise Conflict(_("A mandate is already active for this account."))
    if not found.schemes or found.creditor is None:
        db.session.rollback()
        raise Conflict(_("Direct debit cannot be set up for this account at the moment."))
    try:
        values, account = signing_form.check(data, found.schemes)
    except Invalid:
        db.session.rollback()
        raise
    language = mandate_text.language_of(who.language)
    reference = next_reference(found.customer, now)
    said = facts(found, values["scheme"], reference)
    text = mandate_text.text(said, language)
    if str(data.get("reference") or "") != reference or str(data.get("digest") or "") != digest(
        text
    ):
        db.session.rollback()
        raise TextChanged(reference)

    customer = found.customer
    address_lines = [
        values["street"],
        f"{values['postal_code']} {values['city']}",
        values["country"],
    ]
    mandate = Mandate(
        reference=reference,
        reference_key=mandates.reference_key(reference),
        customer_id=customer.id,
        profile_id=customer.profile_id,
        iban=account.iban,
        bic=account.bic,
        debtor_name=values["account_holder"],
        email=values["email"],
        signed_on=clock.local_date(now),
        scheme=MandateScheme(values["scheme"]),
        status=MandateStatus.ACTIVE,
        used=False,
        actor=ACTOR,
    )
    db.session.add(mandate)
    db.session.flush()
    pdf = mandate_pdf.render(
        mandate_pdf.SignedMandate(
            title=mandate_text.title(said, language),
            text=text,
            language=language,
            account_holder=values["account_holder"],
            address_lines=address_lines,
            iban=grouped(account.iban),
            bic=account.bic,
            signatory=values["signatory"],
            signed_at=now,
            ip_address=who.ip_address,
        )
    )
    signature = MandateSignature(
        mandate_id=mandate.id,
        creditor_id=found.creditor.id,
        signed_at=now,
        ip_address=who.ip_address[:45],
        user_agent=who.user_agent[:500],
        language=language,
        mandate_text=text,
        signatory_name=values["signatory"],
        signatory_email=values["email"],
        debtor_address="\n".join(address_lines)[:300],
        pdf_key=store.put(pdf),
    )
    db.session.add(signature)
    sentence = Sentence(SIGNED, {"reference": reference, "name": values["signatory"]})
    tell_open_documents(customer.id, timeline.MANDATE_SIGNED, sentence, mandate_id=mandate.id)
    db.session.commit()
    signed.send(signature.id)
    return signature


def pdf_filename(signature: MandateSignature) -> str:
    return f"mandate-{signature.mandate.reference}.pdf"


def tell_open_documents(customer_id: int, kind: str, sentence: Sentence, **details) -> None:
    """Write the event on the timeline of each of the customer's open documents."""
    query = (
        sa.select(Invoice)
        .where(
            Invoice.customer_id == customer_id,
            Invoice.kind == DocumentKind.INVOICE,
            Invoice.state.in_(OPEN_STATES),
        )
        .order_by(Invoice.id)
    )
    for invoice in db.session.scalars(query):
        timeline.record(invoice, kind, sentence, actor=ACTOR, **details)
