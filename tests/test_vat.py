"""VAT numbers: kept as typed, read into a compact checked form, a warning when not valid."""

import pytest

from collector.core.vat import Vat, read_vat, vat_prefix
from collector.documents.models import Customer
from collector.extensions import db
from collector.teamleader.customer_sync import sync_customers
from tests.support.factories import make_customer


@pytest.mark.parametrize(
    ("typed", "country", "compact"),
    [
        ("BE0477472701", None, "BE0477472701"),
        ("BE 0477.472.701", None, "BE0477472701"),
        ("be 0477 472 701", "NL", "BE0477472701"),  # the prefix wins over the address
        (" BE-0477-472-701 ", None, "BE0477472701"),
        ("BE 477.472.701", None, "BE0477472701"),  # the old nine-digit form
        ("NL004495445B01", None, "NL004495445B01"),
        ("nl 0044.95.445.b01", "BE", "NL004495445B01"),
        ("0477.472.701", "BE", "BE0477472701"),  # as Teamleader often keeps it
        ("0477472701", "be", "BE0477472701"),
        ("004495445B01", "NL", "NL004495445B01"),
        ("094259216", "GR", "EL094259216"),  # Greece's prefix is EL
        ("GR094259216", None, "EL094259216"),
    ],
)
def test_valid_numbers_are_read_into_their_compact_form(typed, country, compact):
    assert read_vat(typed, country) == Vat(compact=compact)


@pytest.mark.parametrize(
    ("typed", "country", "problem"),
    [
        ("BE 0477.472.702", "BE", "checksum"),
        ("0477.472.702", "BE", "checksum"),  # read with BE, and then the digits are wrong
        ("0477.472.701", None, "country"),  # no prefix and no country to read it with
        ("0477.472.701", "US", "country"),
        ("0477.472.701", "NL", "format"),  # read as Dutch it is not a Dutch number
        ("BE 0477.472.7011", "BE", "length"),
        ("BE 0477.472.701 X", "BE", "format"),
        ("n/a", "BE", "format"),
    ],
)
def test_numbers_that_are_not_valid_have_a_problem_and_no_compact_form(typed, country, problem):
    assert read_vat(typed, country) == Vat(problem=problem)


@pytest.mark.parametrize("typed", [None, "", "   "])
def test_no_number_is_neither_valid_nor_a_problem(typed):
    assert read_vat(typed, "BE") == Vat()


def test_prefixes_only_for_eu_countries():
    assert [vat_prefix(c) for c in ("BE", "nl", "GR", "CH", "US", "", None, "BEL")] == [
        "BE",
        "NL",
        "EL",
        None,
        None,
        None,
        None,
        None,
    ]


def test_the_customer_keeps_the_typed_number_and_follows_it(app):
    customer = make_customer(country="BE", vat_number="0477.472.701")
    assert (customer.vat_number, customer.vat_compact) == ("0477.472.701", "BE0477472701")
    assert customer.vat_problem is None and customer.vat_warning is None

    customer.country = "NL"  # a bare number reads differently in another country
    assert (customer.vat_compact, customer.vat_problem) == (None, "format")
    customer.vat_number = "BE 0477.472.702"
    db.session.commit()

    stored = db.session.scalars(db.select(Customer).filter_by(id=customer.id)).one()
    assert (stored.vat_compact, stored.vat_problem) == (None, "checksum")
    assert stored.vat_warning == (
        "The VAT number BE 0477.472.702 is not valid: "
        "its check digits do not match (a typing error?)."
    )
    stored.vat_number = None
    assert (stored.vat_compact, stored.vat_problem) == (None, None)


def _company(ident, vat_number, country="BE"):
    return {
        "id": ident,
        "name": f"Company {ident[-1]}",
        "vat_number": vat_number,
        "primary_address": {
            "line_1": "Kerkstraat 1",
            "postal_code": "9000",
            "city": "Gent",
            "country": country,
        },
        "emails": [{"type": "primary", "email": f"info{ident[-1]}@example.com"}],
    }


def test_customers_from_teamleader_get_the_compact_form_or_a_warning(app):
    records = {
        ("company", "c-1"): _company("c-1", "BE 0477.472.701"),
        ("company", "c-2"): _company("c-2", "0477.472.701"),
        ("company", "c-3"): _company("c-3", "nl004495445b01", country="NL"),
        ("company", "c-4"): _company("c-4", "BE 0477.472.702"),
        ("company", "c-5"): _company("c-5", None),
    }

    result = sync_customers(None, dict.fromkeys(records), None, fetched=records)

    assert (result.created, result.missing) == (5, [])
    rows = {
        c.teamleader_id: (c.vat_number, c.vat_compact, c.vat_problem)
        for c in db.session.scalars(db.select(Customer))
    }
    assert rows == {
        "c-1": ("BE 0477.472.701", "BE0477472701", None),
        "c-2": ("0477.472.701", "BE0477472701", None),
        "c-3": ("nl004495445b01", "NL004495445B01", None),
        "c-4": ("BE 0477.472.702", None, "checksum"),
        "c-5": (None, None, None),
    }

    # Corrected in Teamleader: the next sync reads it again.
    records[("company", "c-4")]["vat_number"] = "BE 0477.472.701"
    sync_customers(None, {("company", "c-4"): None}, None, fetched=records)
    fixed = db.session.scalars(db.select(Customer).filter_by(teamleader_id="c-4")).one()
    assert (fixed.vat_compact, fixed.vat_problem) == ("BE0477472701", None)
