"""The preview of a mail text: rendered against a real document of the profile (the one
chosen, else the latest), in the text's language, without sending or saving anything."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from collector.documents.models import DocumentKind, Invoice
from collector.dunning.models import DunningStep
from collector.extensions import db
from collector.mail import letters, texts
from collector.mail.composing import document_facts

CHOICES = 20


@dataclass(frozen=True)
class Preview:
    invoice: Invoice | None
    letter: letters.Letter


def documents_for(profile_id: int) -> list[Invoice]:
    """The profile's latest invoices, to preview a text against."""
    query = (
        sa.select(Invoice)
        .where(Invoice.profile_id == profile_id, Invoice.kind == DocumentKind.INVOICE)
        .order_by(Invoice.invoice_date.desc(), Invoice.id.desc())
        .limit(CHOICES)
    )
    return list(db.session.scalars(query))


def preview(
    data: dict,
    language: str,
    step: DunningStep | None,
    invoice: Invoice | None,
    payment_base_url: str,
    creditors: dict[str, str],
) -> Preview:
    """The mail ``data`` (subject, body) makes for ``invoice`` — for a step, as on the day
    it is reached; raises ``Invalid`` as ``texts.check`` does."""
    texts.check(data["subject"], data["body"], language)
    if invoice is None:
        values = texts.sample_values(language)
    else:
        facts = document_facts(invoice, payment_base_url, creditors, invoice.pdf_key is not None)
        values = texts.values_of(facts, language, step.days if step else None)
    return Preview(invoice, texts.render(data["subject"], data["body"], values, language))
