"""Belgian structured references: Teamleader's when valid, else one made from the
document's id that reads back to that id."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from stdnum.be import ogm_vcs

from collector.documents.references import (
    MAX_ID,
    invoice_id_from_reference,
    reference_for_id,
    structured_reference,
)

SHAPE = re.compile(r"\+\+\+\d{3}/\d{4}/\d{5}\+\+\+")


def document(id_: int, payment_reference: str | None = None):
    return SimpleNamespace(id=id_, payment_reference=payment_reference)


def test_teamleaders_valid_reference_is_kept():
    invoice = document(7, "+++084/2613/66074+++")
    assert structured_reference(invoice) == "+++084/2613/66074+++"


@pytest.mark.parametrize("written", ["084/2613/66074", "***084/2613/66074***", "084261366074"])
def test_teamleaders_reference_is_shown_in_one_form(written):
    assert structured_reference(document(7, written)) == "+++084/2613/66074+++"


@pytest.mark.parametrize(
    "teamleader", [None, "", "+++084/2613/66075+++", "INV 2026/0042", "+++084/2613/6607+++"]
)
def test_without_a_valid_reference_one_is_made_from_the_id(teamleader):
    assert structured_reference(document(42, teamleader)) == "+++000/0000/04242+++"


def test_check_digits_of_a_multiple_of_97_are_97():
    assert reference_for_id(97) == "+++000/0000/09797+++"
    assert reference_for_id(194) == "+++000/0000/19497+++"


def test_every_generated_reference_is_valid_and_reads_back():
    for invoice_id in range(1, 2001):
        reference = reference_for_id(invoice_id)
        assert SHAPE.fullmatch(reference), reference
        assert ogm_vcs.is_valid(reference), reference
        assert invoice_id_from_reference(reference) == invoice_id


def test_the_largest_id_fits_and_larger_ones_are_refused():
    assert invoice_id_from_reference(reference_for_id(MAX_ID)) == MAX_ID
    refused = f"a structured reference holds ids 1 to {MAX_ID}"
    with pytest.raises(ValueError, match=refused):
        reference_for_id(MAX_ID + 1)
    with pytest.raises(ValueError, match=refused):
        reference_for_id(0)


@pytest.mark.parametrize(
    "written",
    [
        "+++000/0000/04242+++",
        "***000/0000/04242***",
        "000/0000/04242",
        "000000004242",
        " +++ 000 / 0000 / 04242 +++ ",
        "000 0000 04242",
    ],
)
def test_reading_back_tolerates_how_banks_print_it(written):
    assert invoice_id_from_reference(written) == 42


@pytest.mark.parametrize(
    "text",
    [
        "",
        "+++000/0000/04243+++",  # wrong check digits
        "+++000/0000/0424+++",  # too short
        "+++000/0000/00097+++",  # valid, but id 0 is nobody
        "invoice 42",
        "RF18 5390 0754 7034",
    ],
)
def test_anything_else_reads_as_no_document(text):
    assert invoice_id_from_reference(text) is None
