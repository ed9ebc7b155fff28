"""Each company entity collects as itself (issue 19, part 5): two Teamleader departments,
each with its own creditor, and each one's customers see their own company — in the mail
(a real SMTP server), on the payment page and in the pain.008 (one file per account)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from defusedxml import ElementTree

from collector.accounts import creditor, entities
from collector.accounts.models import Creditor
from collector.core.errors import Conflict, Invalid
from collector.core.storage import FolderStore
from collector.direct_debit import collection_runs
from collector.direct_debit.models import CollectionRun, MandateScheme
from collector.extensions import db
from collector.mail import invitations
from collector.mail.smtp import SmtpMailer
from collector.runtime import setup as runtime_setup
from collector.teamleader.models import TeamleaderConnection
from tests.support.factories import (
    make_announcement,
    make_customer,
    make_invoice,
    make_mandate,
    make_profile,
)

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}
DEPARTMENTS = [
    {"id": "dep-be", "name": "Klaverblad Services BV", "currency": "EUR"},
    {"id": "dep-nl", "name": "Klaverblad Nederland BV", "currency": "EUR"},
    {"id": "dep-new", "name": "Klaverblad Labs", "currency": "EUR"},
]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def store(tmp_path):
    return FolderStore(tmp_path / "documents")


@pytest.fixture
def two_entities(app):
    """The company default, and the two entities with creditors of their own."""
    db.session.add(
        TeamleaderConnection(account_id="acc", webhook_token="h", departments=DEPARTMENTS)
    )
    db.session.commit()
    default = creditor.update("Demo Company BV", "BE71 0961 2345 6769", "", "BE69ZZZ050D000000008")
    belgian = creditor.update(
        "Klaverblad Services BV",
        "BE68 5390 0754 7034",
        "HBKABE22",
        "BE69ZZZ050D000000008",
        department_id="dep-be",
        address="Kouter 1\n9000 Gent",
        contact_email="Finance@Klaverblad.be",
        contact_phone="+32 9 123 45 67",
        sender_name="Klaverblad Services",
        sender_email="facturen@klaverblad.be",
    )
    dutch = creditor.update(
        "Klaverblad Nederland BV",
        "NL91 ABNA 0417 1643 00",
        "",
        "NL39ZZZ302317620000",
        department_id="dep-nl",
        contact_email="debiteuren@klaverblad.nl",
        sender_name="Klaverblad Nederland",
        sender_email="debiteuren@klaverblad.nl",
    )
    return default, belgian, dutch


def postman(server, store):
    return invitations.Postman(
        mailer=SmtpMailer(server.host, server.port, "none"),
        sender="Collector <collector@service.example>",
        store=store,
        payment_base_url="https://pay.example.com/pay/",
        creditors={d["id"]: d["name"] for d in DEPARTMENTS},
    )


def on_direct_debit(department_id: str, language: str):
    """An invoice of the entity whose customer signed a mandate on its profile."""
    profile = make_profile(allow_direct_debit=True, send_invitation_on_import=True)
    customer = make_customer(language=language)
    mandate = make_mandate(customer=customer, profile=profile)
    invoice = make_invoice(customer=customer, profile=profile, department_id=department_id)
    return invoice, mandate


# -- who collects -------------------------------------------------------------------------


def test_an_entity_without_a_creditor_of_its_own_uses_the_company_default(app, two_entities):
    default, belgian, dutch = two_entities
    assert entities.creditor_of("dep-be") == belgian
    assert entities.creditor_of("dep-nl") == dutch
    assert entities.creditor_of("dep-new") == default
    assert entities.creditor_of(None) == default
    # The default stays the default whatever ids the entities' rows got.
    assert creditor.current() == default
    assert belgian.contact_email == "finance@klaverblad.be"
    assert belgian.address_lines == ["Kouter 1", "9000 Gent"]


def test_the_listing_names_every_entity_and_who_it_collects_as(app, two_entities):
    default, belgian, dutch = two_entities
    names = {d["id"]: d["name"] for d in DEPARTMENTS}
    listed = {e.department_id: (e.name, e.creditor, e.own) for e in entities.listing(names)}
    assert listed == {
        "dep-be": ("Klaverblad Services BV", belgian, True),
        "dep-nl": ("Klaverblad Nederland BV", dutch, True),
        "dep-new": ("Klaverblad Labs", default, False),
    }


def test_an_entitys_creditor_is_checked_like_the_default_and_nothing_half_written(
    app, two_entities
):
    with pytest.raises(Invalid) as caught:
        creditor.update(
            "Klaverblad Labs",
            "BE68 5390 0754 7035",  # a typing error in the check digits
            "",
            "BE69ZZZ050D000000009",
            department_id="dep-new",
            contact_email="not an address",
            contact_phone="call us",
            sender_name="Labs",
        )
    assert set(caught.value.errors) == {
        "iban",
        "creditor_identifier",
        "contact_email",
        "contact_phone",
        "sender_email",
    }
    db.session.rollback()
    assert entities.own("dep-new") is None


def test_forgetting_an_entitys_creditor_falls_back_to_the_default(app, two_entities):
    default, _belgian, _dutch = two_entities
    assert entities.use_default("dep-nl") is True
    assert entities.creditor_of("dep-nl") == default
    assert entities.use_default("dep-nl") is False


def test_a_logo_is_a_small_png_or_jpeg_and_never_an_svg(app, two_entities, store):
    _default, belgian, _dutch = two_entities
    entities.set_logo(belgian, PNG, store)
    assert entities.logo(belgian, store) == (PNG, "image/png")
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
    for refused, reason in [
        (svg, "SVG"),
        (b"GIF89a" + b"\x00" * 10, "PNG or JPEG"),
        (b"\xff\xd8\xff" + b"\x00" * (256 * 1024), "256 kB"),
        (b"", "empty"),
    ]:
        with pytest.raises(entities.creditor_details.LogoRefused, match=reason):
            entities.set_logo(belgian, refused, store)
    assert entities.logo(belgian, store) == (PNG, "image/png")


# -- mails ----------------------------------------------------------------------------------


def test_each_entitys_customer_gets_mail_from_their_own_company(
    app, two_entities, store, smtp_server, clock
):
    belgian_invoice, _ = on_direct_debit("dep-be", "fr")
    dutch_invoice, _ = on_direct_debit("dep-nl", "nl")
    new_entity = make_invoice(
        profile=make_profile(send_invitation_on_import=True), department_id="dep-new"
    )
    ids = [belgian_invoice.id, dutch_invoice.id, new_entity.id]
    assert invitations.queue_on_import(ids, actor="import") == 3
    db.session.commit()

    now = clock.now()
    for mail_id in invitations.deliverable(now):
        invitations.deliver(mail_id, postman(smtp_server, store), now)

    by_recipient = {m["To"]: m for m in smtp_server.messages}
    belgian = by_recipient[belgian_invoice.customer.email]
    assert belgian["From"] == "Klaverblad Services <facturen@klaverblad.be>"
    assert belgian["Subject"] == f"Facture {belgian_invoice.number} de Klaverblad Services BV"
    # The pre-notification names the creditor identifier of the entity that collects.
    assert "BE69ZZZ050D000000008" in belgian.get_body(("plain",)).get_content()
    dutch = by_recipient[dutch_invoice.customer.email]
    assert dutch["From"] == "Klaverblad Nederland <debiteuren@klaverblad.nl>"
    assert dutch["Subject"] == f"Factuur {dutch_invoice.number} van Klaverblad Nederland BV"
    assert "NL39ZZZ302317620000" in dutch.get_body(("plain",)).get_content()
    # An entity without a creditor of its own mails as the company default did before.
    other = by_recipient[new_entity.customer.email]
    assert other["From"] == "Collector <collector@service.example>"
    assert other["Subject"] == f"Factuur {new_entity.number} van Demo Company BV"


# -- the payment page ------------------------------------------------------------------------


def page(client, invoice, query=""):
    response = client.get(f"/pay/{invoice.payment_token}{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_each_entitys_customer_sees_their_own_company_on_the_payment_page(
    app, client, two_entities
):
    _default, belgian, _dutch = two_entities
    entities.set_logo(belgian, PNG, runtime_setup.document_store(app))
    profile = make_profile(allow_bank_transfer=True, allow_direct_debit=False)
    be = make_invoice(
        profile=profile, department_id="dep-be", customer=make_customer(language="fr")
    )
    nl = make_invoice(
        profile=profile, department_id="dep-nl", customer=make_customer(language="nl")
    )

    french = page(client, be)
    assert 'id="entity-name">Klaverblad Services BV<' in french
    assert 'id="beneficiary">Klaverblad Services BV<' in french
    assert "BE68 5390 0754 7034" in french and "NL91" not in french
    assert "Kouter 1<br>9000 Gent" in french
    assert 'href="mailto:finance@klaverblad.be"' in french and 'href="tel:+3291234567"' in french
    logo = client.get(f"/pay/{be.payment_token}/logo")
    assert (logo.status_code, logo.data, logo.mimetype) == (200, PNG, "image/png")
    assert logo.headers["X-Content-Type-Options"] == "nosniff"

    dutch = page(client, nl)
    assert 'id="entity-name">Klaverblad Nederland BV<' in dutch
    assert "NL91 ABNA 0417 1643 00" in dutch and "BE68" not in dutch
    assert 'id="entity-logo"' not in dutch
    assert client.get(f"/pay/{nl.payment_token}/logo").status_code == 404


# -- pain.008: one file per creditor account -------------------------------------------------


def test_a_collection_writes_one_file_per_creditor_account(app, two_entities, store, clock):
    today = clock.today()
    plan = {}
    for department in ("dep-be", "dep-nl", "dep-new"):
        invoice, mandate = on_direct_debit(department, "nl")
        make_announcement(invoice, mandate, today + timedelta(days=3))
        plan[department] = invoice.id

    runs = collection_runs.create_runs(store, today, today + timedelta(days=10), "CORE", "t")

    files = {}
    for run in runs:
        root = ElementTree.fromstring(collection_runs.file(run, store))
        iban = root.findtext(".//p:CdtrAcct/p:Id/p:IBAN", namespaces=NS)
        name = root.findtext(".//p:PmtInf/p:Cdtr/p:Nm", namespaces=NS)
        identifier = root.findtext(".//p:CdtrSchmeId//p:Othr/p:Id", namespaces=NS)
        ends = [e.text for e in root.iterfind(".//p:DrctDbtTxInf/p:PmtId/p:EndToEndId", NS)]
        assert ends == [f"DD-{run.id}-{c.invoice_id}" for c in run.collections]
        assert (run.creditor_iban, run.creditor_name) == (iban, name)
        files[iban] = (name, identifier, [c.invoice_id for c in run.collections])
    assert files == {
        "BE68539007547034": ("Klaverblad Services BV", "BE69ZZZ050D000000008", [plan["dep-be"]]),
        "NL91ABNA0417164300": ("Klaverblad Nederland BV", "NL39ZZZ302317620000", [plan["dep-nl"]]),
        # The entity without a creditor of its own is collected into the default's account.
        "BE71096123456769": ("Demo Company BV", "BE69ZZZ050D000000008", [plan["dep-new"]]),
    }


def test_entities_sharing_one_account_share_one_file(app, two_entities, store, clock):
    """After the migration every entity has the creditor the install had: one file, as
    before."""
    default, _belgian, _dutch = two_entities
    entities.use_default("dep-be")
    entities.use_default("dep-nl")
    today = clock.today()
    for department in ("dep-be", "dep-nl", None):
        invoice, mandate = on_direct_debit(department, "nl")
        make_announcement(invoice, mandate, today + timedelta(days=3))
    [run] = collection_runs.create_runs(store, today, today + timedelta(days=10), "CORE", "t")
    assert (run.count, run.creditor_iban) == (3, default.iban)


def test_an_entity_whose_creditor_cannot_collect_is_left_out_and_named(
    app, two_entities, store, clock
):
    _default, _belgian, dutch = two_entities
    dutch.creditor_identifier = None
    db.session.commit()
    today = clock.today()
    taken, mandate = on_direct_debit("dep-be", "nl")
    make_announcement(taken, mandate, today + timedelta(days=3))
    left, mandate = on_direct_debit("dep-nl", "nl")
    make_announcement(left, mandate, today + timedelta(days=3))

    plan = collection_runs.preview(today, today + timedelta(days=10), MandateScheme.CORE)
    assert [c.invoice_id for c in plan.candidates] == [taken.id]
    assert "Klaverblad Nederland BV" in plan.creditor_problem
    [run] = collection_runs.create_runs(store, today, today + timedelta(days=10), "CORE", "t")
    assert run.creditor_iban == "BE68539007547034"
    db.session.expire_all()
    assert db.session.scalars(sa.select(CollectionRun)).all() == [run]


def test_nothing_collectable_because_of_the_creditor_says_so(app, two_entities, store, clock):
    _default, belgian, _dutch = two_entities
    belgian.iban = None
    db.session.commit()
    today = clock.today()
    invoice, mandate = on_direct_debit("dep-be", "nl")
    make_announcement(invoice, mandate, today + timedelta(days=3))
    with pytest.raises(Conflict, match="Klaverblad Services BV"):
        collection_runs.create_runs(store, today, today + timedelta(days=10), "CORE", "t")
    assert db.session.scalars(sa.select(Creditor).where(Creditor.iban.is_(None))).one() == belgian


def test_saving_only_the_account_keeps_what_customers_see(app, two_entities):
    creditor.update("Klaverblad Services BV", "BE68 5390 0754 7034", "", department_id="dep-be")
    kept = entities.own("dep-be")
    assert kept.address_lines == ["Kouter 1", "9000 Gent"]
    assert kept.sender_email == "facturen@klaverblad.be"
