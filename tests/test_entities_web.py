"""Settings › Company entities (each entity's creditor, edited with the creditor's checks,
its logo), and the payment page that earns trust (issue 19, part 6): the customer switches
its language with a link, sees a clear state and what the invoice is for, and the page
keeps its strict headers."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
import responses

from collector.accounts import creditor, entities
from collector.core.storage import FolderStore
from collector.documents.models import InvoiceState
from collector.extensions import db
from collector.payments.models import OnlinePayment
from collector.runtime import setup as runtime_setup
from collector.teamleader.models import TeamleaderConnection
from tests.conftest import csrf_token, login
from tests.support.factories import make_customer, make_invoice, make_profile
from tests.test_payment_page import API, CHECKOUT, PUBLIC, provider_payment, text

DEPARTMENTS = [
    {"id": "dep-be", "name": "Klaverblad Services BV", "currency": "EUR"},
    {"id": "dep-nl", "name": "Klaverblad Nederland BV", "currency": "EUR"},
]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
VALID = {
    "name": "Klaverblad Nederland BV",
    "iban": "NL91 ABNA 0417 1643 00",
    "bic": "",
    "creditor_identifier": "NL39ZZZ302317620000",
    "prenotification_days": "5",
    "pain_version": "pain.008.001.02",
    "address": "Herengracht 1\n1015 BA Amsterdam",
    "contact_email": "debiteuren@klaverblad.nl",
    "contact_phone": "+31 20 123 4567",
    "sender_name": "Klaverblad Nederland",
    "sender_email": "debiteuren@klaverblad.nl",
}


@pytest.fixture
def connected(app):
    db.session.add(
        TeamleaderConnection(account_id="acc", webhook_token="h", departments=DEPARTMENTS)
    )
    db.session.commit()
    return creditor.update("Demo Company BV", "BE71 0961 2345 6769", "", "BE69ZZZ050D000000008")


def post_entity(client, department_id: str, **changes):
    path = f"/settings/entities/{department_id}"
    data = {**VALID, **changes, "csrf_token": csrf_token(client, path)}
    return client.post(path, data=data)


# -- the settings ------------------------------------------------------------------------


def test_the_entities_page_needs_a_login(app, client, connected):
    response = client.get("/settings/entities/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_entities_page_lists_each_entity_and_who_it_collects_as(app, admin_client, connected):
    creditor.update(**{**VALID, "prenotification_days": 5}, department_id="dep-nl")
    html = admin_client.get("/settings/entities/").get_data(as_text=True)
    assert "Klaverblad Services BV" in html and "The company default" in html
    assert "NL91ABNA0417164300" in html and "NL39ZZZ302317620000" in html


def test_an_entity_without_its_own_shows_the_defaults_details(app, admin_client, connected):
    html = admin_client.get("/settings/entities/dep-be").get_data(as_text=True)
    assert 'id="entity-default"' in html
    assert 'value="Demo Company BV"' in html and 'value="BE71 0961 2345 6769"' in html
    assert admin_client.get("/settings/entities/dep-unknown").status_code == 404


def test_saving_an_entitys_creditor_makes_it_its_own(app, admin_client, connected):
    response = post_entity(admin_client, "dep-nl")
    assert response.status_code == 302
    saved = entities.own("dep-nl")
    assert (saved.name, saved.iban, saved.bic) == (VALID["name"], "NL91ABNA0417164300", "ABNANL2A")
    assert (saved.creditor_identifier, saved.prenotification_days) == ("NL39ZZZ302317620000", 5)
    assert saved.address_lines == ["Herengracht 1", "1015 BA Amsterdam"]
    assert (saved.sender_name, saved.sender_email) == (VALID["sender_name"], VALID["sender_email"])
    # The default is untouched.
    assert creditor.current().name == "Demo Company BV"


def test_an_invalid_entity_creditor_is_refused_on_its_fields_and_nothing_is_saved(
    app, admin_client, connected
):
    response = post_entity(
        admin_client, "dep-nl", iban="NL91 ABNA 0417 1643 01", contact_email="nobody"
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'data-field="iban"' in html and 'data-field="contact_email"' in html
    assert entities.own("dep-nl") is None


def test_a_bic_of_another_bank_than_the_ibans_is_refused(app, admin_client, connected):
    # The entity's form shows the default's details: keeping its Belgian BIC with a Dutch
    # IBAN would send the file to the wrong bank.
    response = post_entity(admin_client, "dep-nl", bic="GKCCBEBB")
    assert response.status_code == 400
    assert "ABNANL2A" in response.get_data(as_text=True)
    assert entities.own("dep-nl") is None


def test_a_viewer_can_look_but_not_change(app, client, connected, viewer):
    login(client, viewer.email)
    assert client.get("/settings/entities/dep-nl").status_code == 200
    token = csrf_token(client, "/settings/entities/dep-nl")
    response = client.post("/settings/entities/dep-nl", data={**VALID, "csrf_token": token})
    assert response.status_code == 403
    assert entities.own("dep-nl") is None


def test_use_the_company_default_again(app, admin_client, connected):
    post_entity(admin_client, "dep-nl")
    token = csrf_token(admin_client, "/settings/entities/dep-nl")
    response = admin_client.post("/settings/entities/dep-nl/default", data={"csrf_token": token})
    assert response.status_code == 302
    assert entities.own("dep-nl") is None


def upload(client, creditor_id: int, content: bytes, filename: str, page: str):
    token = csrf_token(client, page)
    data = {"csrf_token": token, "logo": (io.BytesIO(content), filename)}
    return client.post(
        f"/settings/creditor/{creditor_id}/logo", data=data, content_type="multipart/form-data"
    )


def test_an_entitys_logo_is_uploaded_shown_and_removed(app, admin_client, connected):
    post_entity(admin_client, "dep-nl")
    own = entities.own("dep-nl")
    page = "/settings/entities/dep-nl"
    response = upload(admin_client, own.id, PNG, "logo.png", page)
    assert response.status_code == 302 and response.headers["Location"].endswith(page)
    shown = admin_client.get(f"/settings/creditor/{own.id}/logo")
    assert (shown.status_code, shown.data, shown.mimetype) == (200, PNG, "image/png")

    token = csrf_token(admin_client, page)
    admin_client.post(f"/settings/creditor/{own.id}/logo/remove", data={"csrf_token": token})
    db.session.expire_all()
    assert entities.own("dep-nl").logo_key is None


def test_an_svg_logo_is_refused_and_says_why(app, admin_client, connected):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    response = upload(admin_client, connected.id, svg, "logo.svg", "/settings/creditor")
    assert response.status_code == 302
    html = admin_client.get("/settings/creditor").get_data(as_text=True)
    assert "SVG logos are not accepted" in html
    db.session.expire_all()
    assert creditor.current().logo_key is None


# -- the payment page ----------------------------------------------------------------------


def payable(language: str = "nl", **overrides):
    profile = make_profile(allow_bank_transfer=True, allow_direct_debit=False)
    customer = make_customer(language=language)
    return make_invoice(profile=profile, customer=customer, department_id="dep-be", **overrides)


def page(client, invoice, query: str = "") -> str:
    response = client.get(f"/pay/{invoice.payment_token}{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_customer_switches_the_pages_language_with_a_link(app, client, connected):
    invoice = payable("nl")
    dutch = page(client, invoice)
    assert '<html lang="nl-BE">' in dutch and "Te betalen bedrag" in dutch
    assert f'href="/pay/{invoice.payment_token}?lang=fr"' in dutch

    french = page(client, invoice, "?lang=fr")
    assert '<html lang="fr-BE">' in french and "Montant dû" in french
    assert "121,00\N{NO-BREAK SPACE}€" in french
    # The picked language stays on the page's own links.
    assert f'action="/pay/{invoice.payment_token}/online?lang=fr"' not in french  # no online
    english = page(client, invoice, "?lang=en")
    assert '<html lang="en">' in english and "€121.00" in english
    # Anything else is ignored: the customer's own language.
    assert '<html lang="nl-BE">' in page(client, invoice, "?lang=de")


def test_a_dutch_customer_of_the_netherlands_keeps_its_own_way_of_writing(app, client, connected):
    invoice = payable("nl-NL")
    assert '<html lang="nl-NL">' in page(client, invoice, "?lang=nl")


def test_the_page_says_what_the_invoice_is_for_and_who_to_ask(app, client, connected):
    creditor.update(
        "Klaverblad Services BV",
        "BE68 5390 0754 7034",
        "HBKABE22",
        department_id="dep-be",
        address="Kouter 1\n9000 Gent",
        contact_email="finance@klaverblad.be",
        contact_phone="09 123 45 67",
    )
    invoice = payable("en", amount_due=Decimal("21.00"))
    html = page(client, invoice)
    assert text(html, "pay-state") == "Open: to be paid"
    assert text(html, "document-number") == invoice.number
    assert text(html, "total-excl-vat") == "€100.00"
    assert text(html, "total-vat") == "€21.00"
    assert text(html, "total-incl-vat") == "€121.00"
    assert text(html, "settled") == "€100.00"
    assert text(html, "amount-due") == "€21.00"
    assert text(html, "contact-email") == "finance@klaverblad.be"
    assert 'href="tel:091234567"' in html


def test_a_paid_invoice_reads_paid_at_a_glance(app, client, connected):
    html = page(client, payable("fr", state=InvoiceState.PAID, amount_due=Decimal("0.00")))
    assert text(html, "pay-state") == "Payée intégralement"
    assert 'data-state="paid"' in html


def test_a_collection_under_way_reads_processing(app, client, connected):
    html = page(client, payable("en", state=InvoiceState.PENDING))
    assert text(html, "pay-state") == "Payment being processed"


@pytest.fixture
def provider(app, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER_URL", API)
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER_API_KEY", "test_x")
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", PUBLIC)
    with responses.RequestsMock() as mock:
        yield mock


def test_the_picked_language_goes_through_the_checkout_and_back(app, client, connected, provider):
    profile = make_profile(allow_payment_link=True, allow_direct_debit=False)
    invoice = make_invoice(profile=profile, customer=make_customer(language="nl"))
    provider.post(f"{API}/payments", status=201, json=provider_payment())
    html = page(client, invoice, "?lang=fr")
    assert f'action="/pay/{invoice.payment_token}/online?lang=fr"' in html
    token = csrf_token(client, f"/pay/{invoice.payment_token}?lang=fr")
    response = client.post(
        f"/pay/{invoice.payment_token}/online?lang=fr", data={"csrf_token": token}
    )
    assert response.status_code == 303 and response.headers["Location"] == CHECKOUT
    sent = json.loads(provider.calls[0].request.body)
    assert sent["redirectUrl"] == f"{PUBLIC}/pay/{invoice.payment_token}/return?lang=fr"
    db.session.expire_all()
    row = db.session.scalars(db.select(OnlinePayment)).one()
    provider.get(f"{API}/payments/{row.provider_id}", json=provider_payment("open"))
    back = client.get(f"/pay/{invoice.payment_token}/return?lang=fr")
    assert back.headers["Location"] == f"/pay/{invoice.payment_token}?r=1&lang=fr"
    html = client.get(back.headers["Location"]).get_data(as_text=True)
    assert text(html, "pay-state") == "Paiement en cours de traitement"


def test_the_page_keeps_its_strict_headers_with_a_logo(app, client, connected):
    store = runtime_setup.document_store(app)
    entities.set_logo(creditor.current(), PNG, store)
    invoice = payable("nl")
    response = client.get(f"/pay/{invoice.payment_token}?lang=fr")
    policy = response.headers["Content-Security-Policy"]
    assert "img-src 'self' data:" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "private, no-store"
    html = response.get_data(as_text=True)
    assert f'src="/pay/{invoice.payment_token}/logo"' in html
    logo = client.get(f"/pay/{invoice.payment_token}/logo")
    assert logo.status_code == 200 and logo.headers["X-Robots-Tag"] == "noindex, nofollow"


def test_a_store_without_the_logo_file_shows_none(app, client, connected, tmp_path):
    # Content-addressed: bytes no other test stored in the app's own store.
    elsewhere = PNG + b"only elsewhere"
    entities.set_logo(creditor.current(), elsewhere, FolderStore(tmp_path / "elsewhere"))
    invoice = payable("nl")
    assert client.get(f"/pay/{invoice.payment_token}/logo").status_code == 404


# -- a collection run over two accounts -----------------------------------------------------


def test_a_run_over_two_entities_shows_and_makes_one_file_per_account(
    app, admin_client, connected, clock
):
    from datetime import timedelta

    from collector.direct_debit.models import CollectionRun
    from tests.support.factories import make_announcement, make_mandate

    creditor.update(**{**VALID, "prenotification_days": 5}, department_id="dep-nl")
    today = clock.today()
    for department in ("dep-be", "dep-nl"):
        profile = make_profile(allow_direct_debit=True)
        mandate = make_mandate(profile=profile)
        invoice = make_invoice(customer=mandate.customer, profile=profile, department_id=department)
        make_announcement(invoice, mandate, today + timedelta(days=3))
    until = (today + timedelta(days=7)).isoformat()

    html = admin_client.get(f"/collections/new?scheme=CORE&until={until}").get_data(as_text=True)
    assert 'id="files"' in html
    assert "NL91ABNA0417164300" in html and "BE71096123456769" in html
    assert 'id="create-run"' in html

    token = csrf_token(admin_client, f"/collections/new?scheme=CORE&until={until}")
    data = {"csrf_token": token, "scheme": "CORE", "until": until, "count": 2, "total": "242.00"}
    response = admin_client.post("/collections/new", data=data)
    assert response.status_code == 302 and response.headers["Location"].endswith("/collections/")
    made = db.session.scalars(db.select(CollectionRun).order_by(CollectionRun.id)).all()
    assert sorted(run.creditor_iban for run in made) == ["BE71096123456769", "NL91ABNA0417164300"]


def test_the_entities_pages_sit_under_settings_in_the_menu(app, admin_client, connected):
    html = admin_client.get("/settings/entities/").get_data(as_text=True)
    assert '<a href="/settings/creditor" aria-current="page">Settings</a>' in html
