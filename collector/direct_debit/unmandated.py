"""Money owed on a direct-debit profile by customers with no active mandate on it: no run
ever collects it. One definition, read by the dashboard (how many customers, how much)
and by the customers list (which customers), so the two always agree."""

from __future__ import annotations

import sqlalchemy as sa

from collector.direct_debit.models import Mandate, MandateStatus
from collector.documents.models import DocumentKind, Invoice, InvoiceState, Profile


def unmandated_invoices() -> tuple[sa.FromClause, sa.ColumnElement[bool]]:
    """The invoices still owed (booked or expired, money due) on a profile that allows
    direct debit, whose customer holds no active mandate on that profile: the rows to
    select from (invoices joined to their profile) and the condition."""
    mandate = sa.exists().where(
        Mandate.customer_id == Invoice.customer_id,
        Mandate.profile_id == Invoice.profile_id,
        Mandate.status == MandateStatus.ACTIVE,
    )
    which = sa.and_(
        Invoice.kind == DocumentKind.INVOICE,
        Invoice.state.in_((InvoiceState.BOOKED, InvoiceState.EXPIRED)),
        Invoice.amount_due > 0,
        Profile.allow_direct_debit.is_(True),
        ~mandate,
    )
    return sa.join(Invoice, Profile, Profile.id == Invoice.profile_id), which


def customers_without_mandate() -> sa.Select:
    """The ids of the customers who owe such invoices (a subquery for ``IN``)."""
    documents, which = unmandated_invoices()
    return sa.select(Invoice.customer_id).select_from(documents).where(which)
