"""One rounding rule, and money columns that refuse fractions of a cent."""

from decimal import Decimal

import pytest
from sqlalchemy.exc import StatementError

from collector.core.money import cents, round_cents
from collector.extensions import db
from collector.teamleader.components import PaymentSchema, TotalSchema
from tests.support.factories import make_invoice

D = Decimal


@pytest.mark.parametrize(
    ("value", "rounded"),
    [
        (D("2.345"), D("2.35")),  # half-up, as invoices print it (half-even says 2.34)
        (D("2.335"), D("2.34")),
        (D("-2.345"), D("-2.35")),  # away from zero for credit notes
        (D("2.344999"), D("2.34")),
        (D("0.005"), D("0.01")),
        (D("121"), D("121.00")),
        (21, D("21.00")),
    ],
)
def test_round_cents_is_half_up(value, rounded):
    assert round_cents(value) == rounded
    assert str(round_cents(value)) == str(rounded)  # always two decimals


def test_money_is_never_a_float():
    with pytest.raises(TypeError, match="not float"):
        round_cents(2.345)
    with pytest.raises(TypeError, match="not float"):
        cents(1.5)


@pytest.mark.parametrize("value", [D("1.005"), D("0.001"), "12.345"])
def test_a_fraction_of_a_cent_is_refused(value):
    with pytest.raises(ValueError, match="fraction of a cent"):
        cents(value)


def test_cents_takes_whole_cents_as_they_are():
    assert cents(D("1.5")) == D("1.50") and cents("7") == D("7.00")
    with pytest.raises(ValueError, match="not an amount"):
        cents("twelve")


def test_a_money_column_refuses_a_fraction_of_a_cent_and_writes_nothing(app):
    invoice = make_invoice()
    invoice.amount_due = D("60.505")
    with pytest.raises(StatementError, match="fraction of a cent"):
        db.session.commit()
    db.session.rollback()
    db.session.refresh(invoice)
    assert invoice.amount_due == D("121.00")


def test_a_money_column_refuses_floats(app):
    invoice = make_invoice()
    invoice.amount_due = 60.5
    with pytest.raises(StatementError, match="not float"):
        db.session.commit()
    db.session.rollback()


def test_teamleaders_totals_and_payments_are_read_to_the_cent():
    total = TotalSchema().load(
        {
            "tax_exclusive": {"amount": D("100.004"), "currency": "EUR"},
            "tax_inclusive": {"amount": D("121.005"), "currency": "EUR"},
            "payable": {"amount": D("121.005"), "currency": "EUR"},
            "due": {"amount": 121, "currency": "EUR"},
        }
    )
    assert (total["tax_exclusive"], total["payable"], total["due"]) == (
        D("100.00"),
        D("121.01"),
        D("121.00"),
    )
    payment = PaymentSchema().load(
        {
            "paid_at": "2026-11-20T10:00:00+01:00",
            "payment": {"amount": D("10.125"), "currency": "EUR"},
        }
    )
    assert payment["amount"] == D("10.13")


def test_a_bank_file_amount_with_a_fraction_of_a_cent_is_refused():
    from xml.etree.ElementTree import Element  # noqa: S405 (built here, not parsed)

    from collector.direct_debit.files.iso20022 import BankFileError, amount

    element = Element("Amt", Ccy="EUR")
    element.text = "60.50"
    assert amount(element, "entry 1") == (D("60.50"), "EUR")
    element.text = "60.505"
    with pytest.raises(BankFileError, match="fraction of a cent"):
        amount(element, "entry 1")
