"""The import's rules on their own: what is still to collect, a new document's state,
and reading profile names out of custom-field values."""

from datetime import date
from decimal import Decimal as D

import pytest

from collector.documents.amounts import still_due
from collector.documents.models import InvoiceState
from collector.teamleader.drafts import state_for
from collector.teamleader.models import TeamleaderConnection
from collector.teamleader.profile_choice import ProfileChooser
from tests.support.factories import make_profile

TODAY = date(2026, 11, 21)


@pytest.mark.parametrize(
    ("payable", "credited", "ours", "by_hand", "teamleader_due", "held", "expected"),
    [
        (D("121.00"), D("0"), D("0"), D("0"), D("121.00"), D("0"), D("121.00")),
        (D("121.00"), D("0"), D("0"), D("100.00"), D("21.00"), D("0"), D("21.00")),
        (D("121.00"), D("0"), D("0"), D("0"), None, D("0"), D("121.00")),  # due unknown
        # Teamleader lowered its due for the credit note (its blueprint's reading)…
        (D("121.00"), D("21.00"), D("0"), D("0"), D("100.00"), D("0"), D("100.00")),
        # …or did not (its support centre's): ours lowers it all the same.
        (D("121.00"), D("21.00"), D("0"), D("0"), D("121.00"), D("0"), D("100.00")),
        (D("121.00"), D("150.00"), D("0"), D("0"), D("121.00"), D("0"), D("0.00")),  # ≥ 0
        # Part credited, the rest registered in Teamleader by hand: settled either way.
        (D("121.00"), D("60.50"), D("0"), D("60.50"), D("0.00"), D("0"), D("0.00")),
        (D("121.00"), D("60.50"), D("0"), D("60.50"), D("60.50"), D("0"), D("0.00")),
        # Part credited, the rest paid here, not yet in Teamleader, then held there.
        (D("121.00"), D("60.50"), D("60.50"), D("0"), D("121.00"), D("0"), D("0.00")),
        (D("121.00"), D("60.50"), D("60.50"), D("0"), D("60.50"), D("60.50"), D("0.00")),
        # Ours held in Teamleader is taken off once, not twice.
        (D("121.00"), D("0"), D("21.00"), D("0"), D("100.00"), D("21.00"), D("100.00")),
    ],
)
def test_what_is_still_to_collect(payable, credited, ours, by_hand, teamleader_due, held, expected):
    assert still_due(payable, credited, ours, by_hand, teamleader_due, held) == expected


@pytest.mark.parametrize(
    ("payable", "due", "credited", "due_date", "state", "why"),
    [
        (D("0.00"), D("0.00"), D("0"), None, InvoiceState.ARCHIVED, "zero amount"),
        (D("50.00"), D("0.00"), D("50.00"), None, InvoiceState.ARCHIVED, "fully credited"),
        (D("50.00"), D("0.00"), D("0"), None, InvoiceState.PAID, "paid in Teamleader"),
        (D("50.00"), D("50.00"), D("0"), date(2026, 11, 20), InvoiceState.EXPIRED, None),
        (D("50.00"), D("50.00"), D("0"), TODAY, InvoiceState.BOOKED, None),
        (D("50.00"), D("50.00"), D("0"), None, InvoiceState.BOOKED, None),
    ],
)
def test_the_state_of_a_new_document(payable, due, credited, due_date, state, why):
    got, reason = state_for(payable, due, credited, due_date, TODAY)
    assert got == state
    assert (reason or "").startswith(why or "")
    assert (reason is None) == (why is None)


def test_custom_field_values_name_profiles_by_label_id_or_option(app):
    direct = make_profile(name="Direct debit")
    link = make_profile(name="Payment link")
    connection = TeamleaderConnection(
        account_id="a",
        webhook_token="t",
        custom_fields=[
            {"id": "f", "context": "invoice", "options": [{"id": "opt-1", "value": "Payment link"}]}
        ],
    )
    chooser = ProfileChooser(client=None, connection=connection)

    def resolve(value):
        unknown = []
        return chooser._resolve(value, unknown), unknown

    assert resolve("direct DEBIT ") == (direct, [])  # labels match without case
    assert resolve(str(link.id)) == (link, [])  # a profile id
    assert resolve(link.id) == (link, [])
    assert resolve("opt-1") == (link, [])  # an option id, read through the definition
    assert resolve({"id": "opt-1", "value": "Payment link"}) == (link, [])
    assert resolve(["Nope", "Direct debit"]) == (direct, ["Nope"])  # multi-select
    assert resolve("Cheque") == (None, ["Cheque"])
    assert resolve(None) == (None, [])
    assert resolve(True) == (None, [])
