"""Rows for tests: each helper makes one committed row from plain defaults, and any
column can be given instead. Numbers and ids are unique per call."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

from collector.core.clock import local_today, now
from collector.direct_debit.models import (
    Collection,
    CollectionRun,
    CollectionRunStatus,
    CollectionStatus,
    Mandate,
    MandateScheme,
    MandateStatus,
)
from collector.documents.models import (
    Customer,
    CustomerKind,
    DocumentKind,
    DocumentMail,
    DocumentMailKind,
    DocumentMailStatus,
    Invoice,
    InvoiceEvent,
    InvoiceState,
    Profile,
)
from collector.dunning.models import DunningStep, StepKind
from collector.extensions import db

_serial = itertools.count(1)


def _next() -> int:
    return next(_serial)


def _save(row):
    db.session.add(row)
    db.session.commit()
    return row


def make_profile(**overrides) -> Profile:
    """A profile allowing bank transfer, named "Profile <n>"; ``reminder_days`` (e.g.
    [7, 21]) become its dunning steps (reminders), ``steps`` ([(kind, days)…]) any."""
    days = overrides.pop("reminder_days", [])
    steps = overrides.pop("steps", [(StepKind.REMINDER, d) for d in days])
    values = {"name": f"Profile {_next()}", "allow_bank_transfer": True}
    profile = Profile(**{**values, **overrides})
    for kind, day in steps:
        profile.dunning_steps.append(DunningStep(kind=kind, days=day))
    return _save(profile)


def make_customer(**overrides) -> Customer:
    """A company whose customer number is its Teamleader id (the linked state)."""
    n = _next()
    teamleader_id = overrides.pop("teamleader_id", f"00000000-0000-4000-8000-{n:012d}")
    values = {
        "teamleader_id": teamleader_id,
        "customer_number": teamleader_id,
        "kind": CustomerKind.COMPANY,
        "name": f"Customer {n}",
        "email": f"billing{n}@example.com",
        "language": "nl",
        "country": "BE",
    }
    return _save(Customer(**{**values, **overrides}))


def make_invoice(**overrides) -> Invoice:
    """A booked invoice of € 121.00 (€ 100 + 21 % VAT) dated two weeks before the test
    clock's today, due 30 days after its date (so still open), with a new customer
    unless ``customer`` or ``customer_id`` is given."""
    n = _next()
    if "customer" not in overrides and "customer_id" not in overrides:
        overrides["customer"] = make_customer()
    invoice_date = overrides.get("invoice_date", local_today() - timedelta(days=14))
    values = {
        "kind": DocumentKind.INVOICE,
        "number": f"2026 / {n}",
        "teamleader_id": f"10000000-0000-4000-8000-{n:012d}",
        "invoice_date": invoice_date,
        "due_date": invoice_date + timedelta(days=30),
        "currency": "EUR",
        "total_excl_vat": Decimal("100.00"),
        "total_vat": Decimal("21.00"),
        "total_incl_vat": Decimal("121.00"),
        "amount_due": Decimal("121.00"),
        "state": InvoiceState.BOOKED,
    }
    return _save(Invoice(**{**values, **overrides}))


def make_event(invoice: Invoice, **overrides) -> InvoiceEvent:
    """An "imported" event on ``invoice``'s timeline, by the system, now."""
    values = {"kind": "imported", "actor": "system", "message": "Imported from Teamleader."}
    return _save(InvoiceEvent(invoice=invoice, **{**values, **overrides}))


def make_mandate(**overrides) -> Mandate:
    """An active CORE mandate on a valid Belgian IBAN, signed about ten months before
    the test clock's today (far from lapsing), with a new
    customer and a new direct-debit profile unless they are given."""
    n = _next()
    if "customer" not in overrides and "customer_id" not in overrides:
        overrides["customer"] = make_customer()
    if "profile" not in overrides and "profile_id" not in overrides:
        overrides["profile"] = make_profile(allow_direct_debit=True)
    reference = overrides.pop("reference", f"MANDATE-{n:06d}")
    values = {
        "reference": reference,
        "reference_key": reference.upper(),
        "iban": "BE68539007547034",
        "bic": None,
        "debtor_name": f"Debtor {n}",
        "signed_on": local_today() - timedelta(days=300),
        "scheme": MandateScheme.CORE,
        "status": MandateStatus.ACTIVE,
    }
    return _save(Mandate(**{**values, **overrides}))


def make_announcement(invoice: Invoice, mandate: Mandate, on: date, **overrides) -> DocumentMail:
    """The invoice's invitation, sent a day ago, announcing its debit on ``mandate`` for
    ``on`` (a second one is keyed as sent again)."""
    again = len(invoice.mails)
    values = {
        "invoice_id": invoice.id,
        "kind": DocumentMailKind.INVITATION,
        "key": f"invitation:again:{again}" if again else "invitation",
        "status": DocumentMailStatus.SENT,
        "sent_at": now() - timedelta(days=1),
        "direct_debit_on": on,
        "direct_debit_mandate_id": mandate.id,
    }
    row = _save(DocumentMail(**{**values, **overrides}))
    db.session.refresh(invoice)
    return row


def make_collection(**overrides) -> Collection:
    """A pending FRST collection of € 121.00 due in three days, in a run marked sent: on a
    new mandate and a new PENDING invoice of its customer and profile, unless ``mandate``,
    ``invoice`` or ``run`` is given."""
    n = _next()
    in_three_days = local_today() + timedelta(days=3)
    mandate = overrides.pop("mandate", None) or make_mandate()
    invoice = overrides.pop("invoice", None) or make_invoice(
        customer=mandate.customer, profile=mandate.profile, state=InvoiceState.PENDING
    )
    run = overrides.pop("run", None) or _save(
        CollectionRun(
            scheme=mandate.scheme,
            status=CollectionRunStatus.SENT,
            message_id=f"RUN-{n:06d}",
            pain_version="pain.008.001.02",
            count=1,
            total=invoice.amount_due,
            collect_until=in_three_days,
        )
    )
    values = {
        "run": run,
        "invoice": invoice,
        "mandate": mandate,
        "amount": invoice.amount_due,
        "sequence_type": mandate.sequence_type,
        "collection_date": in_three_days,
        "end_to_end_id": f"E2E-{n:06d}",
        "payment_info_id": f"PMTINF-{run.id}-{mandate.sequence_type}",
        "status": CollectionStatus.PENDING,
    }
    return _save(Collection(**{**values, **overrides}))
