"""A document's page and a customer's page as the finance team reads them: a credit note's
amounts negative (its own, and where it is listed against an invoice), the customer named
by name and number, never by the Teamleader UUID (that is only the link's target), and
both pages in the reader's language."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest

from collector.documents import timeline
from collector.documents.models import DocumentKind, InvoiceState
from collector.extensions import db
from tests.support.factories import make_customer, make_invoice

FRENCH = {"Accept-Language": "fr-BE"}


@pytest.fixture
def credited(app):
    """An invoice of € 121.00 and a credit note of € 21.00 (€ 17.36 + VAT) against it."""
    customer = make_customer(name="Acme NV")
    invoice = make_invoice(customer=customer)
    note = make_invoice(
        customer=customer,
        kind=DocumentKind.CREDIT_NOTE,
        number="CN-1",
        total_excl_vat=Decimal("17.36"),
        total_vat=Decimal("3.64"),
        total_incl_vat=Decimal("21.00"),
        amount_due=Decimal("0.00"),
        state=InvoiceState.ARCHIVED,
        credited_invoice_id=invoice.id,
    )
    return invoice, note


def shown(page: str, field: str) -> str:
    return re.search(rf'<dd data-amount="{field}">([^<]*)</dd>', page).group(1)


def test_a_credit_notes_own_amounts_read_negative(viewer_client, credited):
    _invoice, note = credited
    page = viewer_client.get(f"/invoices/{note.id}").get_data(as_text=True)

    assert shown(page, "total_excl_vat") == "-€17.36"
    assert shown(page, "total_vat") == "-€3.64"
    assert shown(page, "total_incl_vat") == "-€21.00"


def test_a_credit_note_against_an_invoice_reads_negative(viewer_client, credited):
    invoice, note = credited
    page = viewer_client.get(f"/invoices/{invoice.id}").get_data(as_text=True)

    listed = re.search(rf'href="/invoices/{note.id}">CN-1</a>.*?</li>', page, re.S).group(0)
    assert '<span data-amount="credit_note">-€21.00</span>' in listed
    assert shown(page, "total_incl_vat") == "€121.00"  # the invoice itself stays positive


def test_the_invoice_names_its_customer_not_its_uuid(viewer_client, credited):
    invoice, _note = credited
    customer = invoice.customer
    page = viewer_client.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    assert ">Acme NV</a>" in page
    assert customer.teamleader_id not in page  # linked: the number is the UUID

    customer.customer_number = "K-100"
    db.session.commit()
    page = viewer_client.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    assert '<span class="muted" data-customer-number>(K-100)</span>' in page


def test_the_customer_page_links_teamleader_but_does_not_label_with_the_uuid(
    viewer_client, credited
):
    customer = credited[0].customer
    customer.teamleader_url = (
        f"https://focus.teamleader.eu/company_detail.php?id={customer.teamleader_id}"
    )
    db.session.commit()
    page = viewer_client.get(f"/customers/{customer.id}").get_data(as_text=True)

    assert page.count(customer.teamleader_id) == page.count(f'href="{customer.teamleader_url}"')
    assert f"<code>{customer.teamleader_id}</code>" not in page


def test_the_document_page_in_french(viewer_client, credited):
    invoice, note = credited
    timeline.record(invoice, timeline.PAYMENT_RECEIVED, "Payment of € 10.00 received (bank).")
    db.session.commit()
    page = viewer_client.get(f"/invoices/{invoice.id}", headers=FRENCH).get_data(as_text=True)

    assert f"<h1>Facture {invoice.number}</h1>" in page
    for words in ("Date d’échéance", "Total TVAC", "Notes de crédit sur cette facture"):
        assert words in page, words
    assert "<strong>paiement reçu</strong>" in page  # the event's kind, translated
    # its stored message, recognised and said in French with French money
    assert "Paiement de 10,00\xa0€ reçu (banque)." in page
    assert "-21,00\xa0€" in page
    for english in ("Due date", "Timeline", "Credit notes against this invoice", "Payments"):
        assert english not in page, english

    page = viewer_client.get(f"/invoices/{note.id}", headers=FRENCH).get_data(as_text=True)
    assert "<h1>Note de crédit CN-1</h1>" in page and "Crédite" in page


def test_the_statement_speaks_the_readers_language_but_its_csv_keeps_machine_columns(
    viewer_client, credited
):
    customer = credited[0].customer
    page = viewer_client.get(f"/customers/{customer.id}", headers=FRENCH).get_data(as_text=True)
    for words in ("Relevé de compte", "Solde", "Note de crédit", "Crédit non imputé"):
        assert words in page, words
    assert "Statement" not in page and "Unapplied credit" not in page

    response = viewer_client.get(f"/customers/{customer.id}/statement.csv", headers=FRENCH)
    header, *rows = csv.reader(io.StringIO(response.get_data(as_text=True)))
    assert header == ["date", "type", "document", "description", "detail", "amount", "balance"]
    assert [row[1:4] for row in rows][-1] == ["credit_note", "CN-1", "Note de crédit"]
    assert rows[-1][5] == "-21.00"
