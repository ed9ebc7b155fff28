"""The portal per company entity: a customer with documents of two entities sees them in
two groups, each with its own name, account and contact; what a customer tells the team
reaches the dashboard and the entity's contact address; their mandate is shown masked."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from collector.accounts import creditor
from collector.dunning import holds
from collector.extensions import db
from collector.mail.models import MailMessage
from collector.teamleader.models import TeamleaderConnection
from collector.web import needs_attention
from tests.portal.test_portal_web import csrf, portal
from tests.support.factories import make_customer, make_invoice, make_mandate, make_profile

DEPARTMENTS = [{"id": "dep-be", "name": "Klaverblad BE"}, {"id": "dep-nl", "name": "Klaverblad NL"}]


@pytest.fixture
def two_entities(app):
    db.session.add(
        TeamleaderConnection(account_id="acc", webhook_token="h", departments=DEPARTMENTS)
    )
    db.session.commit()
    creditor.update("Demo Company BV", "BE71 0961 2345 6769", "", "BE69ZZZ050D000000008")
    creditor.update(
        "Klaverblad Services BV",
        "BE68 5390 0754 7034",
        "HBKABE22",
        "BE69ZZZ050D000000008",
        department_id="dep-be",
        address="Kouter 1\n9000 Gent",
        contact_email="finance@klaverblad.be",
    )
    creditor.update(
        "Klaverblad Nederland BV",
        "NL91 ABNA 0417 1643 00",
        "",
        "NL39ZZZ302317620000",
        department_id="dep-nl",
        contact_email="debiteuren@klaverblad.nl",
    )


@pytest.fixture
def customer(app):
    return make_customer(name="Bakkerij Peeters", language="en")


def test_documents_of_two_entities_are_grouped_each_with_its_branding(
    client, customer, two_entities
):
    belgian = make_invoice(customer=customer, department_id="dep-be", number="BE-1")
    dutch = make_invoice(customer=customer, department_id="dep-nl", number="NL-1")
    html = portal(client, customer).get_data(as_text=True)
    sections = {part.split('"', 1)[0]: part for part in html.split('data-entity="')[1:]}
    assert set(sections) == {"dep-be", "dep-nl"}
    belgian_part, dutch_part = sections["dep-be"], sections["dep-nl"]
    assert f'data-invoice="{belgian.id}"' in belgian_part
    assert f'data-invoice="{dutch.id}"' not in belgian_part
    assert f'data-invoice="{dutch.id}"' in dutch_part
    assert "Klaverblad Services BV" in belgian_part and "Kouter 1" in belgian_part
    assert "BE68 5390 0754 7034" in belgian_part and "NL91 ABNA 0417 1643 00" in dutch_part
    # One pay form per entity: a checkout never mixes two creditors' documents.
    assert html.count('data-action="pay-selected"') == 0  # no provider configured here
    assert html.count('class="portal-pay"') == 2


def test_a_dispute_reaches_the_dashboard_and_the_entitys_contact(
    client, admin_client, customer, two_entities, clock
):
    invoice = make_invoice(customer=customer, department_id="dep-nl")
    page = portal(client, customer)
    client.post(
        f"/portal/{customer.portal_token}/documents/{invoice.id}/disputed",
        data={"csrf_token": csrf(page), "reason": "Wrong quantity"},
    )
    items = {item.key: item for item in needs_attention.needs_attention()}
    assert items["customer_said"].count == 1
    listed = holds.list_holds("customers", clock.today(), clock.now())
    assert [h.invoice_id for h in listed] == [invoice.id]
    mail = db.session.scalars(sa.select(MailMessage).filter_by(kind="portal_said")).one()
    assert mail.recipient == "debiteuren@klaverblad.nl"
    assert "Wrong quantity" in mail.body_text and invoice.number in mail.subject


def test_the_customers_mandate_is_shown_masked(client, customer, app):
    profile = make_profile(allow_direct_debit=True)
    make_mandate(
        customer=customer,
        profile=profile,
        reference="UMR-PEETERS-1",
        iban="BE68539007547034",
        signed_on=date(2026, 1, 5),
    )
    html = portal(client, customer).get_data(as_text=True)
    assert "UMR-PEETERS-1" in html
    assert "BE** **** **** 7034" in html and "BE68539007547034" not in html
    assert 'id="sign-mandate"' not in html  # online signing is wired in at merge
