"""Money in: what was received this month, last month and in each of the last weeks, by
how it came (direct debit, online, bank transfer, registered in Teamleader, other), in
one SQL aggregate over the payment ledger. Periods are the company's local days: a
period starts at its first day's local midnight."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa

from collector.core import clock
from collector.core.money import ZERO
from collector.documents.models import Invoice, Payment, PaymentSource
from collector.documents.receivables import CURRENCY, cents_or_zero, money_sum
from collector.extensions import db

TREND_WEEKS = 12


class Channel(enum.StrEnum):
    """How money came in; the labels live in the template."""

    DIRECT_DEBIT = "direct_debit"  # a collection of ours the bank settled
    ONLINE = "online"  # through the payment provider
    TRANSFER = "transfer"  # a bank transfer read from a bank file
    TEAMLEADER = "teamleader"  # registered in Teamleader by hand
    OTHER = "other"  # marked as paid here, or found paid in Exact Online


@dataclass(frozen=True)
class CashIn:
    """Money received in a period by channel, net of the refunds, chargebacks and
    returns booked in that period (they count against the channel of the payment)."""

    start: date
    end: date  # exclusive
    by_channel: dict[Channel, Decimal] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return sum(self.by_channel.values(), ZERO)

    def amount(self, channel: Channel | str) -> Decimal:
        return self.by_channel.get(Channel(channel), ZERO)


@dataclass(frozen=True)
class Collected:
    """This month so far, last month, and the last TREND_WEEKS weeks (Monday to Sunday,
    the current one last)."""

    this_month: CashIn
    last_month: CashIn
    weeks: list[CashIn]


def collected(
    today: date,
    *,
    debited: sa.Select | None = None,
    department_id: str | None = None,
    currency: str = CURRENCY,
) -> Collected:
    """Money in ``currency`` this month, last month and per week (one query). ``debited``
    selects the ids of the payments that settled a direct debit (the direct-debit domain
    knows them); without it direct debits count as transfers."""
    this_start = today.replace(day=1)
    last_start = (this_start - timedelta(days=1)).replace(day=1)
    monday = today - timedelta(days=today.weekday())
    week_starts = [monday - timedelta(weeks=n) for n in range(TREND_WEEKS - 1, -1, -1)]
    end = today + timedelta(days=1)
    month = sa.case(
        (Payment.occurred_at >= _instant(this_start), "this"),
        (Payment.occurred_at >= _instant(last_start), "last"),
        else_=None,
    ).label("month")
    # The latest week whose start the payment is on or after.
    latest_first = reversed(list(enumerate(week_starts)))
    week = sa.case(
        *((Payment.occurred_at >= _instant(start), i) for i, start in latest_first), else_=None
    ).label("week")
    channel = _channel(debited).label("channel")
    query = (
        sa.select(month, week, channel, money_sum(Payment.amount))
        .where(
            Payment.cancelled_at.is_(None),
            Payment.currency == currency,
            Payment.occurred_at >= _instant(min(last_start, week_starts[0])),
            Payment.occurred_at < _instant(end),
        )
        .group_by(month, week, channel)
    )
    if department_id is not None:
        query = query.join(Invoice, Invoice.id == Payment.invoice_id).where(
            Invoice.department_id == department_id
        )
    # At most 3 months × 13 weeks × 5 channels rows: folded here into the periods.
    sums: dict[object, dict[Channel, Decimal]] = {}
    for month_key, week_index, channel_key, amount in db.session.execute(query):
        for period in (month_key, week_index):
            if period is not None:
                by = sums.setdefault(period, {})
                how = Channel(channel_key)
                by[how] = by.get(how, ZERO) + cents_or_zero(amount)
    ends = [*week_starts[1:], end]
    weeks = enumerate(zip(week_starts, ends, strict=True))
    return Collected(
        this_month=CashIn(this_start, end, sums.get("this", {})),
        last_month=CashIn(last_start, this_start, sums.get("last", {})),
        weeks=[CashIn(start, stop, sums.get(i, {})) for i, (start, stop) in weeks],
    )


def _channel(debited: sa.Select | None):
    bank = Channel.TRANSFER.value
    if debited is not None:
        # A return points at the settlement it takes back: both are the direct debit's.
        settled = sa.func.coalesce(Payment.reverses_id, Payment.id).in_(debited)
        bank = sa.case((settled, Channel.DIRECT_DEBIT.value), else_=Channel.TRANSFER.value)
    return sa.case(
        (Payment.source == PaymentSource.BANK, bank),
        (Payment.source == PaymentSource.PROVIDER, Channel.ONLINE.value),
        (Payment.source == PaymentSource.TEAMLEADER, Channel.TEAMLEADER.value),
        else_=Channel.OTHER.value,
    )


def _instant(day: date) -> datetime:
    """The company's local midnight starting ``day``, as an aware instant."""
    return datetime.combine(day, time(), tzinfo=clock.zone())
