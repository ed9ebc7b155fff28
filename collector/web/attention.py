"""What a person must look at: online payments refused by the payment provider (its API
key rejected, our webhook address unreachable), documents Teamleader refused or that were
not sent to it, status callbacks given up on, emails to customers that failed or may not
have gone out, and money paid beyond what a document asked for. Each outbox keeps trying
on its own; these are the ones it stopped on or cannot judge."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from collector.documents import callback_endpoints, overpayments
from collector.documents.models import (
    CallbackDelivery,
    DocumentMail,
    DocumentMailStatus,
    Invoice,
    Overpayment,
)
from collector.extensions import db
from collector.payments import provider_status
from collector.payments.models import ProviderStatus
from collector.teamleader import payment_sync
from collector.teamleader.models import TeamleaderSync

LIMIT = 200


@dataclass(frozen=True)
class Problems:
    teamleader: list[TeamleaderSync]  # refused (failed) or not sent (skipped), newest first
    callbacks: list[CallbackDelivery]  # given up, newest first
    mails: list[DocumentMail]  # failed or uncertain, newest first
    overpayments: list[Overpayment]  # waiting for a refund or a keep, newest first
    provider: ProviderStatus | None = None  # set while the provider refuses online payments

    @property
    def count(self) -> int:
        lists = (self.teamleader, self.callbacks, self.mails, self.overpayments)
        return sum(len(found) for found in lists) + (self.provider is not None)


def find_problems(limit: int = LIMIT) -> Problems:
    """The four lists of the sync problems page, each with its documents loaded, and the
    payment provider's refusal of online payments, if any."""
    return Problems(
        teamleader=payment_sync.problems(limit),
        callbacks=callback_endpoints.failed_deliveries(limit),
        mails=failed_mails(limit),
        overpayments=overpayments.waiting(limit),
        provider=provider_status.problem(),
    )


def failed_mails(limit: int = LIMIT) -> list[DocumentMail]:
    """Emails to customers the mail server refused, or that a worker stopped sending
    (maybe delivered), newest first."""
    query = (
        sa.select(DocumentMail)
        .options(joinedload(DocumentMail.invoice).joinedload(Invoice.customer))
        .where(DocumentMail.status.in_((DocumentMailStatus.FAILED, DocumentMailStatus.UNCERTAIN)))
        .order_by(DocumentMail.updated_at.desc(), DocumentMail.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))
