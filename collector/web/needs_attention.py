"""What needs a person, gathered from every domain for the dashboard: connections to
make again, the payment provider refusing online payments, money that came back or
cannot be placed, and deliveries that stopped. Each item says what to do and where.

The counts are one statement of scalar subqueries, each answered by an index on a
status (the problem rows are few); the connections are one row each. Bounced mail is
not tracked (we learn only what the mail server said when we handed the mail over):
what shows is mail it refused, and mail that may not have gone out.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from collector.core import clock
from collector.core.oauth import ConnectionStatus
from collector.direct_debit import unmandated
from collector.direct_debit.models import (
    BankTransaction,
    BankTransactionStatus,
    Collection,
    CollectionStatus,
    ReturnAction,
)
from collector.documents.models import (
    CallbackDelivery,
    CallbackStatus,
    DocumentKind,
    DocumentMail,
    DocumentMailStatus,
    Invoice,
    InvoiceState,
    Overpayment,
    OverpaymentStatus,
)
from collector.documents.receivables import cents_or_zero, money_sum
from collector.dunning import holds
from collector.dunning.models import Hold
from collector.exact import connection as exact_connection
from collector.exact.models import BookingStatus, ExactBooking
from collector.extensions import db
from collector.payments import provider_status
from collector.teamleader import connection as teamleader_connection
from collector.teamleader.models import NEEDS_A_PERSON, TeamleaderSync


@dataclass(frozen=True)
class Text:
    """What an item says and where it leads (``endpoint``, its ``args``, an ``anchor``)."""

    title: str
    to_do: str
    endpoint: str
    args: tuple[tuple[str, str], ...] = ()
    anchor: str | None = None


# Every item's words, in the order the dashboard lists them: what stops everything first.
TEXTS = {
    "teamleader_not_connected": Text(
        _l("Teamleader is not connected"),
        _l("Connect Teamleader: nothing is imported and no payment is written back until then."),
        "integrations.teamleader",
    ),
    "teamleader_reconnect": Text(
        _l("Teamleader must be connected again"),
        _l(
            "Teamleader refused our access. Connect it again: imports and payments written "
            "back wait until then."
        ),
        "integrations.teamleader",
    ),
    "exact_reconnect": Text(
        _l("Exact Online must be connected again"),
        _l("Exact Online refused our access. Connect it again: sales entries wait until then."),
        "exact.index",
    ),
    "came_back": Text(
        _l("Direct debits that came back"),
        _l(
            "The bank rejected or returned these collections and the invoices are still owed. "
            "Send the invitation again to announce a new debit, or ask the customer to pay "
            "another way."
        ),
        "collections.index",
    ),
    "promise_passed": Text(
        _l("Promises to pay whose day passed"),
        _l(
            "Chasing resumed on its own. Check whether the customer paid; lift the hold, or "
            "put the document on hold again with a new date."
        ),
        "holds.index",
        args=(("show", "lapsed"),),
    ),
    "customer_said": Text(
        _l("Customers who said they paid or dispute an invoice"),
        _l(
            "They told us on their portal; reminders and direct debits of those invoices "
            "wait. Check each, then lift the hold or keep it."
        ),
        "holds.index",
        args=(("show", "customers"),),
    ),
    "holds_to_review": Text(
        _l("Disputes and payment plans on hold for over 30 days"),
        _l("Check each still stands: they pause reminders and direct debits."),
        "holds.index",
        args=(("show", "review"),),
    ),
    "unmatched": Text(
        _l("Money in the bank that matches no invoice"),
        _l("Match each transfer to its invoice, or dismiss it with a reason."),
        "bank_files.unmatched",
    ),
    "double_payments": Text(
        _l("Possible double payments"),
        _l(
            "Transfers for invoices that are paid already. Refund each to the payer, or keep "
            "it as a credit for the customer."
        ),
        "bank_files.unmatched",
        anchor="double-payments",
    ),
    "overpayments": Text(
        _l("Money paid beyond what was due"),
        _l("Refund it through the payment provider, or keep it with a reason."),
        "problems.index",
        anchor="overpayments",
    ),
    "no_mandate": Text(
        _l("Direct-debit customers without a mandate"),
        _l(
            "These customers have open invoices on a direct-debit profile but no active "
            "mandate on it, so they are never collected. Upload their signed mandates, or move "
            "them to a profile they can pay on."
        ),
        "customers.index",
        args=(("without_mandate", "1"),),
    ),
    "teamleader_sync": Text(
        _l("Payments Teamleader refused or that were not sent"),
        _l("Open each one, fix what Teamleader objected to, and send it again."),
        "problems.index",
        anchor="teamleader",
    ),
    "exact_failing": Text(
        _l("Documents Exact Online refused"),
        _l("Read the reason on each; fix the mapping or the document, and run the sync again."),
        "exact.index",
        anchor="exact-failing",
    ),
    "callbacks": Text(
        _l("Status callbacks given up on"),
        _l("Check the receiving system is up, then send them again."),
        "problems.index",
        anchor="callbacks",
    ),
    "mails": Text(
        _l("Emails to customers that failed or may not have gone out"),
        _l(
            "Check the address and the mail server; send again only where the customer did "
            "not receive it."
        ),
        "problems.index",
        anchor="mails",
    ),
    "held_mail": Text(
        _l("Invitations an import held back"),
        _l(
            "These documents were already overdue or dated long ago when they were imported, "
            "so their invitation waits for you. Tick the ones to send; the others are not "
            "reminded either."
        ),
        "mail.held",
    ),
    "pdf_refused": Text(
        _l("Documents whose PDF Teamleader refused"),
        _l(
            "Open the document in Teamleader and check it renders; collector keeps trying on "
            "its own, and invitations that need the PDF wait for it."
        ),
        "invoices.index",
        args=(("pdf", "no"),),
    ),
}


@dataclass(frozen=True)
class Item:
    """One thing to look at: how many, how much (where money is at stake), and for a
    connection, what the other side said."""

    key: str
    count: int | None = None
    amount: Decimal | None = None
    detail: str | None = None
    # The payment provider's problem brings its own words (``payments``' one place).
    own_text: Text | None = None

    @property
    def text(self) -> Text:
        return self.own_text or TEXTS[self.key]


def needs_attention() -> list[Item]:
    """Everything that waits for a person now, most blocking first; empty when nothing."""
    items = _connections()
    provider = provider_status.problem()
    if provider is not None:
        text = Text(provider.problem.headline, provider.problem.to_do, "payment_settings.index")
        items.append(Item("provider", detail=provider.detail or None, own_text=text))
    counts = _counts()
    for key in TEXTS:
        if key in counts and counts[key][0]:
            items.append(Item(key, *counts[key]))
    return items


def _connections() -> list[Item]:
    items = []
    teamleader = teamleader_connection.current_connection()
    if teamleader is None:
        items.append(Item("teamleader_not_connected"))
    elif teamleader.status == ConnectionStatus.RECONNECT_NEEDED:
        items.append(Item("teamleader_reconnect", detail=teamleader.last_error))
    exact = exact_connection.current_exact()
    if exact is not None and exact.status == ConnectionStatus.RECONNECT_NEEDED:
        items.append(Item("exact_reconnect", detail=exact.last_error))
    return items


def _counts() -> dict[str, tuple[int, Decimal | None]]:
    """key → (count, amount or None), in one statement: a UNION ALL of one aggregate per
    item, so each item's rows are read once for both its figures."""
    parts = [
        sa.select(
            sa.literal(key).label("key"),
            count.label("count"),
            (amount if amount is not None else sa.null()).label("amount"),
        )
        .select_from(table)
        .where(where)
        for key, (table, where, count, amount) in _questions().items()
    ]
    rows = db.session.execute(sa.union_all(*parts)).all()
    summed = {key for key, (_t, _w, _c, amount) in _questions().items() if amount is not None}
    return {key: (n, cents_or_zero(total) if key in summed else None) for key, n, total in rows}


def _questions() -> dict[str, tuple]:
    """key → (the table, which of its rows, how many, their amount or None)."""
    owed = sa.and_(
        Invoice.kind == DocumentKind.INVOICE,
        Invoice.state.in_((InvoiceState.BOOKED, InvoiceState.EXPIRED)),
        Invoice.amount_due > 0,
    )
    # A debit presented again on its own (``failed_debits``) needs nobody.
    came_back = sa.select(Collection.invoice_id).where(
        Collection.status.in_((CollectionStatus.REJECTED, CollectionStatus.RETURNED)),
        Collection.next_step.is_distinct_from(ReturnAction.RETRY),
    )
    count = sa.func.count()
    unmatched = BankTransaction.status == BankTransactionStatus.UNMATCHED
    return {
        "came_back": (
            Invoice,
            sa.and_(owed, Invoice.id.in_(came_back)),
            count,
            money_sum(Invoice.amount_due),
        ),
        "unmatched": (BankTransaction, unmatched, count, money_sum(BankTransaction.amount)),
        "double_payments": (
            BankTransaction,
            BankTransaction.status == BankTransactionStatus.DOUBLE_PAYMENT,
            count,
            money_sum(BankTransaction.amount),
        ),
        "promise_passed": (Hold, holds.lapsed(clock.local_today()), count, None),
        "holds_to_review": (Hold, holds.for_review(clock.now()), count, None),
        "customer_said": (Hold, holds.from_customers(clock.local_today()), count, None),
        "overpayments": (
            Overpayment,
            Overpayment.status == OverpaymentStatus.OPEN,
            count,
            money_sum(Overpayment.amount),
        ),
        "no_mandate": _without_mandate(),
        "teamleader_sync": (TeamleaderSync, TeamleaderSync.status.in_(NEEDS_A_PERSON), count, None),
        "exact_failing": (ExactBooking, ExactBooking.status == BookingStatus.FAILED, count, None),
        "callbacks": (
            CallbackDelivery,
            CallbackDelivery.status == CallbackStatus.FAILED,
            count,
            None,
        ),
        "mails": (
            DocumentMail,
            DocumentMail.status.in_((DocumentMailStatus.FAILED, DocumentMailStatus.UNCERTAIN)),
            count,
            None,
        ),
        # Held mail is answered by the index on (status, retry_at).
        "held_mail": (DocumentMail, DocumentMail.status == DocumentMailStatus.HELD, count, None),
        # Documents without a PDF are few (the partial index ix_invoice_missing_pdf).
        "pdf_refused": (
            Invoice,
            sa.and_(Invoice.pdf_key.is_(None), Invoice.pdf_failures > 0),
            count,
            None,
        ),
    }


def _without_mandate() -> tuple:
    """Customers with money owed on a direct-debit profile and no active mandate on it
    (``unmandated``, which the customers list filters by too): how many customers, and
    how much they owe."""
    documents, which = unmandated.unmandated_invoices()
    return (
        documents,
        which,
        sa.func.count(sa.distinct(Invoice.customer_id)),
        money_sum(Invoice.amount_due),
    )
