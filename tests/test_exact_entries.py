"""A Teamleader document as an Exact sales entry body: lines, VAT, signs, numbers."""

from decimal import Decimal as D

import pytest

from collector.documents.models import DocumentKind
from collector.exact.entries import Unmapped, entry_body, entry_number, with_links
from collector.exact.models import EntryNumbering, ExactConnection
from tests.support.factories import make_invoice

RATE_21, RATE_6 = "tax-21", "tax-6"


def connection(**overrides) -> ExactConnection:
    values = {
        "country": "be",
        "host": "https://start.exactonline.be",
        "exact_user_id": "u",
        "division": 1234567,
        "invoice_journal": "70",
        "credit_note_journal": "71",
        "vat_codes": {"0.21": "4  ", "0.06": "2  "},
        "gl_accounts": {"0.21": "gl-700000", "0.06": "gl-700100"},
        "payment_conditions": {"after_invoice_date:30": "30"},
        "entry_numbers": EntryNumbering.EXACT,
        "choices": {
            "tax_rates": [
                {"id": RATE_21, "rate": "0.21", "department_id": "d"},
                {"id": RATE_6, "rate": "0.06", "department_id": "d"},
            ]
        },
    }
    return ExactConnection(**{**values, **overrides})


def item(description, amount, tax_id=RATE_21):
    return {
        "description": description,
        "tax_rate_id": tax_id,
        "total": {"tax_exclusive": D(amount)},
    }


def document(items, taxes, tax_exclusive=None, term=None):
    return {
        "grouped_lines": [{"section_title": None, "line_items": items}],
        "total": {
            "tax_exclusive": D(tax_exclusive) if tax_exclusive else None,
            "taxes": [{"rate": D(r), "taxable": D(t), "tax": D(v)} for r, t, v in taxes],
        },
        "payment_term": term or {"type": "after_invoice_date", "days": 30},
    }


def test_lines_carry_amount_vat_code_account_and_teamleaders_vat(app):
    invoice = make_invoice(payment_reference="+++090/9337/55493+++")
    doc = document(
        [item("Consultancy", "33.33"), item("More", "33.33"), item("Books", "50.00", RATE_6)],
        # Teamleader rounds VAT per rate on the taxable total: 66.66 × 21 % = 14.00 (not 7 + 7).
        [("0.21", "66.66", "14.00"), ("0.06", "50.00", "3.00")],
        "116.66",
    )
    body = with_links(entry_body(invoice, doc, connection()), "acc", "doc")
    assert body["Journal"] == "70"
    assert body["Customer"] == "acc"
    assert body["YourRef"] == invoice.number
    assert body["PaymentCondition"] == "30"
    assert body["PaymentReference"] == "+++090/9337/55493+++"
    assert body["Document"] == "doc"
    assert "EntryNumber" not in body
    lines = body["SalesEntryLines"]
    assert [(x["GLAccount"], x["VATCode"], x["AmountFC"]) for x in lines] == [
        ("gl-700000", "4  ", D("33.33")),
        ("gl-700000", "4  ", D("33.33")),
        ("gl-700100", "2  ", D("50.00")),
    ]
    assert sum(x["VATAmountFC"] for x in lines[:2]) == D("14.00")
    assert lines[2]["VATAmountFC"] == D("3.00")


def test_credit_note_is_negative_in_its_journal(app):
    invoice = make_invoice(kind=DocumentKind.CREDIT_NOTE, number="CN2026 / 4")
    doc = document([item("Refund", "100.00")], [("0.21", "100.00", "21.00")], "100.00")
    body = entry_body(invoice, doc, connection())
    assert body["Journal"] == "71"
    assert body["SalesEntryLines"][0]["AmountFC"] == D("-100.00")
    assert body["SalesEntryLines"][0]["VATAmountFC"] == D("-21.00")
    assert "DueDate" not in body


def test_document_discount_becomes_a_line_so_the_entry_equals_the_document(app):
    doc = document([item("Work", "100.00")], [("0.21", "90.00", "18.90")], "90.00")
    body = entry_body(make_invoice(), doc, connection())
    amounts = [(x["Description"], x["AmountFC"], x["VATAmountFC"]) for x in body["SalesEntryLines"]]
    assert amounts == [("Work", D("100.00"), D("21.00")), ("Discount", D("-10.00"), D("-2.10"))]


def test_unmapped_vat_rate_is_refused_with_the_rate(app):
    doc = document([item("Books", "50.00", RATE_6)], [("0.06", "50.00", "3.00")])
    with pytest.raises(Unmapped, match="VAT code .* 6 %"):
        entry_body(make_invoice(), doc, connection(vat_codes={"0.21": "4  "}))
    with pytest.raises(Unmapped, match="G/L account .* 6 %"):
        entry_body(make_invoice(), doc, connection(gl_accounts={}))


def test_unknown_teamleader_tax_rate_asks_to_read_the_lists_again(app):
    doc = document([item("X", "1.00", "tax-unknown")], [])
    with pytest.raises(Unmapped, match="read the lists again"):
        entry_body(make_invoice(), doc, connection())


def test_entry_number_from_the_invoice_number(app):
    doc = document([item("Work", "100.00")], [("0.21", "100.00", "21.00")])
    numbered = connection(entry_numbers=EntryNumbering.INVOICE)
    body = entry_body(make_invoice(number="2026 / 17"), doc, numbered)
    assert body["EntryNumber"] == 202617
    assert entry_number("CN2026 / 4") == 20264
    for bad in ("ABC", "9999999999 / 1", "0"):
        with pytest.raises(Unmapped):
            entry_number(bad)
