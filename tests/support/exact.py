"""Exact Online through its sandbox: a connection made on the real OAuth pages, settings
chosen from the lists the sandbox serves, and readers of what the sandbox holds."""

from __future__ import annotations

from decimal import Decimal

from collector.exact import connection as exact_connection
from collector.exact import settings as exact_settings
from collector.exact import setup as exact_setup
from collector.exact.models import ExactConnection
from collector.runtime import setup as runtime_setup
from collector.teamleader import setup as teamleader_setup
from collector.teamleader.models import TeamleaderConnection
from sandbox.exact.consent import authorization_code

DEMO_DIVISION_INDEX = 0


# Exact's minute, scaled down so tests pace against the same 60 calls in a second; the
# sandbox is given the same window (its MINUTE_WINDOW).
MINUTE_WINDOW = 1.0


def exact_config(sandbox_url: str, **overrides) -> dict:
    """App settings pointing at an Exact sandbox served at ``sandbox_url``."""
    return {
        "EXACT_BASE_URL": f"{sandbox_url}/{{country}}",
        "EXACT_CLIENT_ID": "collector-sandbox",
        "EXACT_CLIENT_SECRET": "sandbox-secret",
        "EXACT_RATE_WINDOW": MINUTE_WINDOW,
        **overrides,
    }


def connect(app, user, country: str = "be") -> ExactConnection:
    """Connect through the sandbox's authorize page, "Authorize" pressed."""
    host = exact_setup.host(app, country)
    code = authorization_code(exact_setup.oauth(app, host).authorize_url("state"))
    return exact_connection.complete_connect(
        exact_setup.oauth(app, host),
        exact_setup.client_factory(app),
        runtime_setup.cipher(app),
        code,
        user,
        country=country,
        host=host,
    )


def choose(app, connection: ExactConnection, teamleader: TeamleaderConnection | None):
    """The first administration, its lists read (and Teamleader's VAT rates)."""
    division = connection.choices["divisions"][DEMO_DIVISION_INDEX]["code"]
    client = exact_setup.client_factory(app)(
        exact_setup.token_source(app, connection), connection.host, division
    )
    tl = teamleader_setup.client(app, teamleader) if teamleader is not None else None
    return exact_settings.choose_division(connection, division, client, tl)


def full_mapping(
    connection: ExactConnection, teamleader: TeamleaderConnection, departments: list[str], **options
):
    """Settings forwarding ``departments``, mapping each of their VAT rates to the sales VAT
    code of that percentage (type E) and to a revenue account, as finance would choose them."""
    choices = connection.choices
    vat_codes, gl_accounts = {}, {}
    revenue = choices["gl_accounts"]
    rates = {t["rate"] for t in choices["tax_rates"] if t["department_id"] in departments}
    for index, rate in enumerate(sorted(rates)):
        vat_codes[rate] = vat_code_for(connection, rate)
        gl_accounts[rate] = revenue[index % len(revenue)]["id"]
    journals = {j["type"]: j["code"] for j in choices["journals"]}
    data = {
        "invoice_journal": journals[exact_settings.SALES_JOURNAL],
        "credit_note_journal": journals.get(exact_settings.RETURN_JOURNAL)
        or journals[exact_settings.SALES_JOURNAL],
        "department_ids": departments,
        "vat_codes": vat_codes,
        "gl_accounts": gl_accounts,
        "payment_conditions": {},
        "sync_credit_notes": True,
        **options,
    }
    return exact_settings.save_settings(connection, data, teamleader)


def vat_code_for(connection: ExactConnection, rate: str) -> str:
    for code in connection.choices["vat_codes"]:
        if code["type"] == "E" and Decimal(code["percentage"] or "-1") == Decimal(rate):
            return code["code"]
    raise AssertionError(f"the sandbox offers no exclusive VAT code of {rate}")
