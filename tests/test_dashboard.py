"""The dashboard's figures against rows whose answers are worked out by hand: the open
amount and its aging (each bucket's edges on the clock's today), what falls due soon,
unapplied credit, DSO, money in by channel and week, and the next direct debits."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from collector.core import clock as core_clock
from collector.core.columns import utcnow
from collector.direct_debit import debits
from collector.direct_debit.models import (
    Collection,
    CollectionRunStatus,
    CollectionStatus,
    MandateStatus,
)
from collector.documents import cash_in, receivables
from collector.documents.cash_in import Channel
from collector.documents.models import (
    DocumentKind,
    InvoiceState,
    Payment,
    PaymentKind,
    PaymentSource,
)
from collector.extensions import db
from collector.web import dashboard
from tests.support.factories import (
    make_announcement,
    make_collection,
    make_customer,
    make_invoice,
    make_mandate,
)

D = Decimal
_keys = itertools.count(1)


def owed(amount: str, overdue_days: int | None, state=InvoiceState.EXPIRED, **overrides):
    """An invoice with ``amount`` still due, ``overdue_days`` past its due date (None: no
    due date; negative: due in that many days)."""
    today = core_clock.local_today()
    due = None if overdue_days is None else today - timedelta(days=overdue_days)
    if overdue_days is not None and overdue_days <= 0:
        state = InvoiceState.BOOKED
    values = {"due_date": due, "amount_due": D(amount), "state": state}
    return make_invoice(**{**values, **overrides})


def credit_note(total: str, **overrides):
    values = {
        "kind": DocumentKind.CREDIT_NOTE,
        "number": f"CN{next(_keys)}",
        "due_date": None,
        "total_excl_vat": D(total),
        "total_vat": D("0.00"),
        "total_incl_vat": D(total),
        "amount_due": D("0.00"),
        "state": InvoiceState.ARCHIVED,
    }
    return make_invoice(**{**values, **overrides})


def buckets(result: receivables.Receivables) -> dict[str, tuple[int, Decimal]]:
    return {b.key: (b.count, b.amount) for b in result.aging}


# -- what is owed ----------------------------------------------------------------------------


def test_aging_puts_each_invoice_in_its_bucket_by_the_edges(app):
    for amount, days in [
        ("1.00", None),  # no due date: current
        ("2.00", -7),  # due in a week: current, not "due soon"
        ("4.00", -6),  # the last day of "due in the next 7 days"
        ("8.00", 0),  # due today: not overdue yet
        ("16.00", 1),
        ("32.00", 30),
        ("64.00", 31),
        ("128.00", 60),
        ("256.00", 61),
        ("512.00", 90),
        ("1024.00", 91),
        ("2048.00", 400),
    ]:
        owed(amount, days)

    result = receivables.receivables(core_clock.local_today())

    assert buckets(result) == {
        "current": (4, D("15.00")),
        "1-30": (2, D("48.00")),
        "31-60": (2, D("192.00")),
        "61-90": (2, D("768.00")),
        "90+": (2, D("3072.00")),
    }
    assert (result.due_soon_count, result.due_soon_amount) == (2, D("12.00"))
    assert (result.overdue_count, result.overdue_amount) == (8, D("4080.00"))
    assert (result.open_count, result.open_amount) == (12, D("4095.00"))


def test_only_what_is_still_owed_counts_and_partly_paid_counts_what_is_left(app):
    owed("21.00", 5, total_incl_vat=D("121.00"), payable=D("121.00"))  # partly paid
    owed("100.00", 10, state=InvoiceState.PENDING)  # a collection under way: still owed
    owed("0.00", 10, state=InvoiceState.EXPIRED)  # nothing left due
    owed("121.00", 10, state=InvoiceState.PAID)
    owed("121.00", 10, state=InvoiceState.ARCHIVED)  # closed without payment
    credit_note("50.00", due_date=core_clock.local_today() - timedelta(days=10))

    result = receivables.receivables(core_clock.local_today())

    assert buckets(result)["1-30"] == (2, D("121.00"))
    assert result.open_amount == D("121.00")


def test_unapplied_credit_comes_off_the_outstanding_amount(app):
    owed("300.00", 3)
    invoice = owed("100.00", 3)
    credit_note("40.00", credited_invoice_id=invoice.id)  # offset in its invoice's due already
    credit_note("15.00")  # booked against no invoice: owed to the customer
    credit_note("7.00", credited_teamleader_id="20000000-0000-4000-8000-000000000001")
    credit_note("9.00", teamleader_paid_at=utcnow())  # paid back

    result = receivables.receivables(core_clock.local_today())

    assert (result.unapplied_credit_count, result.unapplied_credit) == (1, D("15.00"))
    assert result.outstanding == D("385.00")  # 300 + 100 - 15


def test_dso_is_outstanding_over_the_last_90_days_sales_times_90(app):
    today = core_clock.local_today()
    # Sales: invoice dates from today - 89 to today; payable where known, else the total.
    make_invoice(invoice_date=today, payable=D("400.00"), amount_due=D("300.00"))
    make_invoice(
        invoice_date=today - timedelta(days=89),
        total_incl_vat=D("700.00"),
        payable=None,
        amount_due=D("0.00"),
        state=InvoiceState.PAID,
    )
    make_invoice(  # too old for the sales, still owed
        invoice_date=today - timedelta(days=90), payable=D("5000.00"), amount_due=D("5000.00")
    )
    credit_note("200.00", invoice_date=today - timedelta(days=10), teamleader_paid_at=utcnow())

    result = receivables.receivables(today)

    # Outstanding 300 + 5000 (the old one is still owed) = 5300; sales 400 + 700 - 200 = 900.
    assert result.sales == D("900.00")
    assert result.dso == 530  # 5300 / 900 * 90


def test_dso_is_none_without_sales(app):
    make_invoice(invoice_date=core_clock.local_today() - timedelta(days=200))
    assert receivables.receivables(core_clock.local_today()).dso is None


def test_one_department_only(app):
    owed("10.00", 5, department_id="dep-a")
    owed("20.00", 5, department_id="dep-b")
    credit_note("3.00", department_id="dep-b")

    result = receivables.receivables(core_clock.local_today(), "dep-b")

    assert (result.open_count, result.open_amount, result.unapplied_credit) == (
        1,
        D("20.00"),
        D("3.00"),
    )


def test_amounts_in_another_currency_are_not_added_up(app, march):
    owed("10.00", 5)
    dollars = owed("500.00", 5, currency="USD")
    credit_note("3.00", currency="USD")
    paid(dollars, "40.00", at(march, 9), currency="USD")

    assert receivables.receivables(march).open_amount == D("10.00")
    assert receivables.receivables(march).unapplied_credit == D("0.00")
    assert cash_in.collected(march).this_month.total == D("0.00")
    assert cash_in.collected(march, currency="USD").this_month.total == D("40.00")


# -- money in --------------------------------------------------------------------------------

WEDNESDAY = date(2026, 3, 18)  # week of Monday 16 March
# The direct-debit settlements, as the dashboard hands them to ``cash_in``.
SETTLED = sa.select(Collection.payment_id).where(Collection.payment_id.is_not(None))


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """The company's local wall-clock time on ``day``, as an instant."""
    return datetime.combine(day, time(hour, minute), tzinfo=core_clock.zone())


def paid(invoice, amount: str, when: datetime, source=PaymentSource.PROVIDER, **overrides):
    values = {
        "invoice_id": invoice.id,
        "key": f"test:{next(_keys)}",
        "source": source,
        "kind": PaymentKind.PAYMENT,
        "amount": D(amount),
        "currency": "EUR",
        "occurred_at": when,
    }
    row = Payment(**{**values, **overrides})
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def march(clock):
    clock.set_local(WEDNESDAY, time(10))
    return WEDNESDAY


def test_money_in_this_month_and_last_by_channel(app, march):
    invoice = make_invoice()
    online = paid(invoice, "100.00", at(date(2026, 3, 2), 10))
    paid(invoice, "-40.00", at(date(2026, 3, 3), 9), kind=PaymentKind.REFUND, reverses=online)
    # Just after local midnight on 1 March: still 28 February in UTC, but this month.
    debited = paid(invoice, "200.00", at(date(2026, 3, 1), 0, 30), PaymentSource.BANK)
    make_collection(invoice=invoice, status=CollectionStatus.SETTLED, payment=debited)
    paid(invoice, "300.00", at(date(2026, 2, 28), 23, 30), PaymentSource.BANK)  # a transfer
    paid(invoice, "50.00", at(date(2026, 2, 1), 0, 0), PaymentSource.TEAMLEADER)
    paid(invoice, "25.00", at(date(2026, 3, 10), 12), PaymentSource.MANUAL)
    paid(invoice, "999.00", at(date(2026, 3, 11), 12), cancelled_at=utcnow())  # stopped counting
    paid(invoice, "70.00", at(date(2026, 1, 31), 23, 59))  # before last month
    paid(invoice, "80.00", at(date(2026, 3, 19), 0, 1))  # tomorrow (a wrong clock upstream)

    money = cash_in.collected(march, debited=SETTLED)

    assert money.this_month.by_channel == {
        Channel.ONLINE: D("60.00"),
        Channel.DIRECT_DEBIT: D("200.00"),
        Channel.OTHER: D("25.00"),
    }
    assert money.this_month.total == D("285.00")
    assert money.last_month.by_channel == {
        Channel.TRANSFER: D("300.00"),
        Channel.TEAMLEADER: D("50.00"),
    }
    assert (money.last_month.start, money.last_month.end) == (date(2026, 2, 1), date(2026, 3, 1))


def test_a_returned_direct_debit_counts_against_direct_debit(app, march):
    invoice = make_invoice()
    debited = paid(invoice, "200.00", at(date(2026, 3, 2), 10), PaymentSource.BANK)
    make_collection(invoice=invoice, status=CollectionStatus.RETURNED, payment=debited)
    paid(
        invoice,
        "-200.00",
        at(date(2026, 3, 9), 10),
        PaymentSource.BANK,
        kind=PaymentKind.RETURN,
        reverses=debited,
    )
    paid(invoice, "30.00", at(date(2026, 3, 9), 11), PaymentSource.BANK)

    money = cash_in.collected(march, debited=SETTLED)

    assert money.this_month.amount(Channel.DIRECT_DEBIT) == D("0.00")
    assert money.this_month.amount(Channel.TRANSFER) == D("30.00")
    # Without the direct-debit domain's answer, bank money is all transfers.
    assert cash_in.collected(march).this_month.by_channel == {Channel.TRANSFER: D("30.00")}


def test_cash_in_per_week_monday_to_sunday(app, march):
    invoice = make_invoice()
    paid(invoice, "25.00", at(date(2026, 3, 15), 23, 59))  # Sunday: the week before
    paid(invoice, "5.00", at(date(2026, 3, 16), 0, 0))  # Monday: this week
    paid(invoice, "7.00", at(date(2025, 12, 29), 0, 0))  # the first of the twelve weeks
    paid(invoice, "9.00", at(date(2025, 12, 28), 23, 0))  # before them

    weeks = cash_in.collected(march).weeks

    assert len(weeks) == 12
    assert [w.start for w in (weeks[0], weeks[-2], weeks[-1])] == [
        date(2025, 12, 29),
        date(2026, 3, 9),
        date(2026, 3, 16),
    ]
    assert weeks[-1].end == date(2026, 3, 19)  # up to today, included
    assert [w.total for w in (weeks[0], weeks[-2], weeks[-1])] == [
        D("7.00"),
        D("25.00"),
        D("5.00"),
    ]
    assert sum(w.total for w in weeks[1:-2]) == 0


# -- the next direct debits ------------------------------------------------------------------


def test_next_debits_in_files_and_announced(app):
    today = core_clock.local_today()
    in_three_days = make_collection()  # € 121, pending, in a run sent to the bank
    make_collection(collection_date=today + timedelta(days=3), amount=D("9.00"))
    make_collection(status=CollectionStatus.SETTLED)  # answered already
    cancelled = make_collection()
    cancelled.run.status = CollectionRunStatus.CANCELLED
    make_collection(collection_date=today - timedelta(days=1))  # past: waiting for the bank
    db.session.commit()

    mandate = make_mandate()
    later = today + timedelta(days=20)
    announced = make_invoice(customer=mandate.customer, profile=mandate.profile)
    make_announcement(announced, mandate, later, direct_debit_amount=D("121.00"))
    overdue_notice = make_invoice(customer=mandate.customer, profile=mandate.profile)
    make_announcement(overdue_notice, mandate, today - timedelta(days=2))

    days = dashboard.next_debits(today)

    earliest = debits.earliest_collection(today)
    assert [(d.on, d.count, d.amount, d.in_file) for d in days] == sorted(
        [
            (in_three_days.collection_date, 2, D("130.00"), True),
            (earliest, 1, D("121.00"), False),
            (later, 1, D("121.00"), False),
        ],
        key=lambda d: (d[0], not d[3]),
    )


def test_announced_debits_a_run_would_not_take_are_left_out(app):
    today = core_clock.local_today()
    on = today + timedelta(days=10)
    mandate = make_mandate()

    def announced(**overrides):
        invoice = make_invoice(customer=mandate.customer, profile=mandate.profile, **overrides)
        make_announcement(invoice, mandate, on)
        return invoice

    more_due = announced(amount_due=D("121.00"))
    more_due.mails[0].direct_debit_amount = D("100.00")
    came_back = announced()
    make_collection(
        invoice=came_back, mandate=mandate, status=CollectionStatus.REJECTED, collection_date=on
    )
    announced(state=InvoiceState.PENDING)  # in a file already: counted from its collection
    announced(currency="USD")
    elsewhere = make_invoice(customer=make_customer(), profile=mandate.profile)
    make_announcement(elsewhere, mandate, on)  # the mandate is another customer's
    revoked = make_mandate()
    gone = make_invoice(customer=revoked.customer, profile=revoked.profile)
    make_announcement(gone, revoked, on)
    revoked.status = MandateStatus.REVOKED
    db.session.commit()

    assert [d for d in dashboard.next_debits(today) if not d.in_file] == []
