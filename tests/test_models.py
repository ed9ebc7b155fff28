"""Column types and model rules: aware UTC times, Decimal money, append-only events."""

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy.exc import StatementError

from collector.documents.models import (
    Customer,
    CustomerKind,
    DocumentKind,
    Invoice,
    InvoiceEvent,
    InvoiceState,
)
from collector.extensions import db


def make_invoice(**overrides) -> Invoice:
    customer = Customer(
        teamleader_id="tl-contact-1",
        customer_number="tl-contact-1",
        kind=CustomerKind.CONTACT,
        name="An",
    )
    values = dict(
        kind=DocumentKind.INVOICE,
        number="2026 / 7",
        teamleader_id="tl-invoice-1",
        customer=customer,
        invoice_date=date(2026, 11, 1),
        due_date=date(2026, 12, 1),
        total_excl_vat=Decimal("100.00"),
        total_vat=Decimal("21.00"),
        total_incl_vat=Decimal("121.00"),
        amount_due=Decimal("121.00"),
    )
    values.update(overrides)
    invoice = Invoice(**values)
    db.session.add(invoice)
    db.session.commit()
    return invoice


def test_money_round_trips_as_exact_decimal(app):
    invoice = make_invoice(amount_due=Decimal("0.1") + Decimal("0.2"))
    db.session.expire_all()
    assert invoice.amount_due == Decimal("0.30")
    assert isinstance(invoice.total_incl_vat, Decimal)


def test_money_refuses_floats(app):
    with pytest.raises(StatementError, match="Decimal, not float"):
        make_invoice(amount_due=0.3)
    db.session.rollback()


def test_times_come_back_aware_in_utc(app):
    brussels = timezone(timedelta(hours=1))
    invoice = make_invoice(state_changed_at=datetime(2026, 11, 1, 10, 0, tzinfo=brussels))
    db.session.expire_all()
    assert invoice.state_changed_at == datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    assert invoice.state_changed_at.utcoffset() == timedelta(0)
    assert invoice.state == InvoiceState.BOOKED


def test_naive_times_are_refused(app):
    with pytest.raises(StatementError, match="naive datetime"):
        make_invoice(state_changed_at=datetime(2026, 11, 1, 10, 0))  # noqa: DTZ001
    db.session.rollback()


def test_teamleader_id_is_unique(app):
    make_invoice()
    with pytest.raises(Exception, match="(?i)unique"):
        make_invoice(customer=db.session.scalars(db.select(Customer)).one())
    db.session.rollback()


def test_events_are_append_only_and_go_with_their_document(app):
    invoice = make_invoice()
    event = InvoiceEvent(invoice=invoice, kind="imported", actor="job:import", details={"n": 1})
    db.session.add(event)
    db.session.commit()
    event.message = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    db.session.delete(invoice)
    db.session.commit()
    assert db.session.scalars(db.select(InvoiceEvent)).all() == []
