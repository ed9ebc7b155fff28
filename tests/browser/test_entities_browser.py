"""Each company entity's payment page and settings in a real browser: the entity's name
and logo, a language switch by link, one column that fits a 360 px phone; the settings
page where a finance user gives an entity its own creditor.

With ``COLLECTOR_SHOTS`` set to a folder, each page is also saved there as a PNG."""

from __future__ import annotations

import os
import struct
import zlib
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from collector.accounts import creditor, entities
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from collector.teamleader.models import TeamleaderConnection
from tests.support.browser import log_in
from tests.support.factories import make_customer, make_invoice, make_profile

pytestmark = pytest.mark.browser

DEPARTMENTS = [
    {"id": "dep-be", "name": "Klaverblad Services BV", "currency": "EUR"},
    {"id": "dep-nl", "name": "Klaverblad Nederland BV", "currency": "EUR"},
]
WIDTHS = (360, 390, 1366)


def png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    """A plain PNG: a coloured bar with a lighter band, enough for a logo in a test."""
    rows = b""
    for y in range(height):
        shade = colour if y < height * 2 // 3 else tuple(min(255, c + 90) for c in colour)
        rows += b"\x00" + bytes(shade) * width

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def shoot(page, name: str) -> None:
    folder = os.environ.get("COLLECTOR_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.fixture
def belgian_invoice(app):
    db.session.add(
        TeamleaderConnection(account_id="acc", webhook_token="h", departments=DEPARTMENTS)
    )
    db.session.commit()
    creditor.update("Demo Company BV", "BE71 0961 2345 6769", "", "BE69ZZZ050D000000008")
    payee = creditor.update(
        "Klaverblad Services BV",
        "BE68 5390 0754 7034",
        "HBKABE22",
        "BE69ZZZ050D000000008",
        department_id="dep-be",
        address="Kouterdreef 12 bus 3\n9000 Gent",
        contact_email="facturatie@klaverblad-services.be",
        contact_phone="+32 9 123 45 67",
    )
    entities.set_logo(payee, png(180, 48, (34, 110, 60)), runtime_setup.document_store(app))
    profile = make_profile(allow_bank_transfer=True, allow_direct_debit=False)
    customer = make_customer(language="nl", name="Bakkerij Van den Broeck BV")
    return make_invoice(
        number="2026/00417",
        profile=profile,
        customer=customer,
        department_id="dep-be",
        total_excl_vat=Decimal("1250.00"),
        total_vat=Decimal("262.50"),
        total_incl_vat=Decimal("1512.50"),
        amount_due=Decimal("1012.50"),
        payment_reference="+++084/2613/66074+++",
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_the_payment_page_fits_shows_the_entity_and_switches_language(
    page, live_server, belgian_invoice, width
):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server}/pay/{belgian_invoice.payment_token}")
    expect(page.locator("html")).to_have_attribute("lang", "nl-BE")
    expect(page.locator("#entity-name")).to_have_text("Klaverblad Services BV")
    logo = page.locator("#entity-logo")
    expect(logo).to_be_visible()
    assert logo.evaluate("img => img.naturalWidth") == 180  # loaded under the page's CSP
    expect(page.locator("#amount-due")).to_have_text("€\N{NO-BREAK SPACE}1.012,50")
    shoot(page, f"pay-nl-{width}")

    for name, tag, amount in [
        ("Français", "fr-BE", "1\N{NARROW NO-BREAK SPACE}012,50"),
        ("English", "en", "€1,012.50"),
    ]:
        page.get_by_role("link", name=name).click()
        expect(page.locator("html")).to_have_attribute("lang", tag)
        expect(page.locator("#amount-due")).to_contain_text(amount)
        # One column on a phone: nothing wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        shoot(page, f"pay-{tag[:2]}-{width}")


@pytest.mark.parametrize("width", (390, 1366))
def test_a_finance_user_gives_an_entity_its_own_creditor(
    page, live_server, admin, belgian_invoice, width
):
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server, admin.email)
    page.goto(f"{live_server}/settings/entities/")
    expect(page.locator("#entities")).to_contain_text("The company default")
    shoot(page, f"settings-entities-{width}")
    page.get_by_role("row", name="Klaverblad Nederland BV").get_by_role("link").click()
    expect(page.locator("#entity-default")).to_be_visible()
    page.get_by_label("Name (beneficiary)").fill("Klaverblad Nederland BV")
    page.get_by_label("IBAN").fill("NL91 ABNA 0417 1643 00")
    page.get_by_label("SEPA creditor identifier").fill("NL39ZZZ302317620000")
    page.get_by_label("Contact email for customers").fill("debiteuren@klaverblad.nl")
    page.get_by_label("Sender's address of the mails").fill("debiteuren@klaverblad.nl")
    page.locator("#save-creditor").click()
    # The form showed the default's details: its BIC is not the Dutch bank's.
    expect(page.locator('.error[data-field="bic"]')).to_contain_text("ABNANL2A")
    shoot(page, f"settings-entity-error-{width}")
    page.get_by_label("BIC").fill("")
    page.locator("#save-creditor").click()
    expect(page.get_by_role("status")).to_contain_text("The creditor of Klaverblad Nederland BV")
    expect(page.locator("#entity-own")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shoot(page, f"settings-entity-{width}")
    saved = entities.own("dep-nl")
    assert (saved.iban, saved.bic) == ("NL91ABNA0417164300", "ABNANL2A")


def test_a_finance_user_uploads_the_default_creditors_logo(
    page, live_server, admin, belgian_invoice, tmp_path
):
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, live_server, admin.email)
    page.goto(f"{live_server}/settings/creditor")
    logo = tmp_path / "logo.png"
    logo.write_bytes(png(200, 60, (30, 60, 140)))
    page.locator("#logo input[type=file]").set_input_files(str(logo))
    page.locator("#upload-logo").click()
    expect(page.get_by_role("status")).to_contain_text("Logo saved.")
    shown = page.locator("#logo img.settings-logo")
    expect(shown).to_be_visible()
    assert shown.evaluate("img => img.naturalWidth") == 200
    shoot(page, "settings-creditor-1366")

    svg = tmp_path / "logo.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    page.locator("#logo input[type=file]").set_input_files(str(svg))
    page.locator("#upload-logo").click()
    expect(page.locator(".flash, [role=alert], [role=status]").first).to_contain_text("SVG")


@pytest.mark.parametrize(
    ("state", "label"),
    [("PAID", "Payée intégralement"), ("PENDING", "Paiement en cours de traitement")],
)
def test_paid_and_processing_read_at_a_glance(page, live_server, belgian_invoice, state, label):
    belgian_invoice.state = state
    if state == "PAID":
        belgian_invoice.amount_due = Decimal("0.00")
    db.session.commit()
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(f"{live_server}/pay/{belgian_invoice.payment_token}?lang=fr")
    expect(page.locator("#pay-state")).to_have_text(label)
    shoot(page, f"pay-fr-390-{state.lower()}")
