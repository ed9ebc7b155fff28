"""VAT numbers as Teamleader keeps them, through a real import from the Teamleader sandbox:
kept as typed, read into the compact form, and a number that is not valid a warning on the
customer, its page and the list, never a failed import."""

from datetime import timedelta

import pytest

from collector.core.clock import local_today
from collector.documents.models import Customer, Invoice
from collector.extensions import db
from collector.teamleader import imports
from collector.teamleader import setup as teamleader_setup
from collector.teamleader.models import ImportSource, ImportStatus


@pytest.fixture
def sandbox_config():
    return {"SEED": 5, "INVOICE_COUNT": 40, "RATE_LIMIT": 100_000}


def companies_invoiced(sandbox, first, last, country: str) -> list[str]:
    """The companies of ``country`` with a booked invoice in the range, in a stable order."""
    data = sandbox.data
    found = {
        i["invoicee"]["customer"]["id"]
        for i in data.invoices.values()
        if i["status"] in ("outstanding", "matched")
        and first <= i["invoice_date"] <= last
        and i["invoicee"]["customer"]["type"] == "company"
    }
    return sorted(
        c for c in found if data.companies[c]["addresses"][0]["address"]["country"] == country
    )


def retype(sandbox, company_id: str, typed) -> tuple[str, str]:
    """Have someone retype a company's VAT number in Teamleader: (its compact form, typed)."""
    store = sandbox.app.extensions["teamleader_emulator"].store
    with store.lock:
        company = store.data.companies[company_id]
        compact = company["vat_number"]
        company["vat_number"] = typed(compact[:2], compact[2:])
        return compact, company["vat_number"]


def test_an_import_keeps_typed_numbers_reads_them_and_warns_about_invalid_ones(
    tl_app, sandbox, connection, admin_client
):
    tl_app.config["TEAMLEADER_RATE_LIMIT"] = 100_000
    today = local_today()
    first, last = today - timedelta(days=30), today
    bare, printed, typo = companies_invoiced(sandbox, first, last, "BE")[:3]
    (dutch,) = companies_invoiced(sandbox, first, last, "NL")[:1]
    want = {
        bare: retype(sandbox, bare, lambda cc, d: f"{d[:4]}.{d[4:7]}.{d[7:]}"),
        printed: retype(sandbox, printed, lambda cc, d: f"{cc.lower()} {d[:4]} {d[4:7]} {d[7:]}"),
        dutch: retype(sandbox, dutch, lambda cc, d: d.lower()),  # no prefix, read as Dutch
    }
    _, mistyped = retype(sandbox, typo, lambda cc, d: f"{cc}{d[:-1]}{(int(d[-1]) + 1) % 10}")

    imp = imports.create_import(ImportSource.CLI, date_from=first, date_to=last)
    client = teamleader_setup.client(tl_app, connection, sleep=lambda seconds: None)
    imp = imports.run_import(client, connection, imp)

    assert imp.status == ImportStatus.FINISHED
    customers = {c.teamleader_id: c for c in db.session.scalars(db.select(Customer))}
    read = {c: (customers[c].vat_compact, customers[c].vat_number) for c in want}
    assert read == want  # kept as typed, read into the compact form
    bad = customers[typo]
    assert (bad.vat_number, bad.vat_compact, bad.vat_problem) == (mistyped, None, "checksum")
    # The customer with the typo still has its documents: a warning, not a failure.
    assert db.session.scalars(db.select(Invoice).filter_by(customer_id=bad.id)).first()

    page = admin_client.get(f"/customers/{bad.id}").get_data(as_text=True)
    assert 'data-warning="vat-invalid"' in page
    assert mistyped in page and "check digits do not match" in page
    listing = admin_client.get("/customers/", query_string={"per_page": 100}).get_data(as_text=True)
    assert listing.count('data-warning="vat-invalid"') == 1
