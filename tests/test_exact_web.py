"""Integrations › Exact Online: connect per country, administration, settings, history, and
the booking shown with the documents."""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
import sqlalchemy as sa

from collector.core.columns import utcnow
from collector.exact.models import (
    BookingStatus,
    EntryNumbering,
    ExactBooking,
    ExactConnection,
    ExactSyncRun,
    SyncTrigger,
)
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from collector.runtime.models import JobRun
from collector.teamleader.models import ConnectionStatus, TeamleaderConnection
from tests.conftest import csrf_token
from tests.exact.support import payload
from tests.support.factories import make_invoice

PAGE = "/integrations/exact"
BE = "https://start.exactonline.be"
DIVISION = 124132
DEPARTMENTS = [{"id": "dep-be", "name": "Acme BV"}, {"id": "dep-nl", "name": "Acme NL"}]


@pytest.fixture
def ex_app(app):
    app.config.update(
        EXACT_CLIENT_ID="exact-cid",
        EXACT_CLIENT_SECRET="exact-secret",
        EXACT_BASE_URL="https://start.exactonline.{country}",
        PUBLIC_BASE_URL="https://collector.example",
    )
    return app


@pytest.fixture
def rsps():
    """HTTP to Exact or Teamleader: a call not registered here fails the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def d(*rows: dict) -> dict:
    """An Exact list answer."""
    return {"d": {"results": list(rows)}}


# What read_choices stores after reading a Belgian administration and Teamleader's rates.
CHOICES = {
    "divisions": [
        {"code": DIVISION, "name": "Nango BV", "country": "BE", "currency": "EUR"},
        {"code": 7654321, "name": "Other BV", "country": "BE", "currency": "EUR"},
    ],
    "journals": [
        {"code": "70", "name": "Verkoopboek", "type": 20},
        {"code": "71", "name": "Creditnota's", "type": 21},
    ],
    "vat_codes": [
        {"code": "  4", "name": "BTW 21%", "percentage": "0.21", "type": "E"},
        {"code": "  2", "name": "BTW 6%", "percentage": "0.06", "type": "E"},
        {"code": "  0", "name": "BTW 0%", "percentage": "0", "type": "N"},
        {"code": " 41", "name": "BTW 21% incl.", "percentage": "0.21", "type": "I"},
    ],
    "gl_accounts": [
        {"id": "6f1c0000-0000-0000-0000-000000700000", "code": "700000", "name": "Sales"},
        {"id": "6f1c0000-0000-0000-0000-000000700100", "code": "700100", "name": "Services"},
    ],
    "payment_conditions": [
        {"code": "30", "name": "30 days", "days": 30},
        {"code": "00", "name": "Cash", "days": 0},
    ],
    "document_type": 10,
    "tax_rates": [
        {"id": "t21", "rate": "0.21", "department_id": "dep-be", "description": "21%"},
        {"id": "t6", "rate": "0.06", "department_id": "dep-be", "description": "6%"},
        {"id": "t0", "rate": "0", "department_id": "dep-nl", "description": "0%"},
    ],
    "payment_terms": ["cash:0", "after_invoice_date:30"],
}


def make_connection(app, **overrides) -> ExactConnection:
    """A stored connection as complete_connect and choose_division leave it."""
    cipher = runtime_setup.cipher(app)
    now = utcnow()
    values = {
        "country": "be",
        "host": BE,
        "exact_user_id": "cc20a11b-c137-48cc-8e55-09d4adbd4ac9",
        "user_name": "Samuel Bodin",
        "user_email": "samuel@nango.dev",
        "division": DIVISION,
        "division_name": "Nango BV",
        "access_token_enc": cipher.encrypt("access-1"),
        "refresh_token_enc": cipher.encrypt("refresh-1"),
        "access_issued_at": now,
        "access_expires_at": now + timedelta(seconds=600),
        "choices": CHOICES,
    }
    connection = ExactConnection(**{**values, **overrides})
    db.session.add(connection)
    db.session.commit()
    return connection


def make_teamleader() -> TeamleaderConnection:
    connection = TeamleaderConnection(
        account_id="acc", webhook_token="hook", departments=DEPARTMENTS
    )
    db.session.add(connection)
    db.session.commit()
    return connection


def post(client, path: str, data: dict | None = None, **kwargs):
    """Post a form of the Exact page with its CSRF token, as the browser would."""
    token = csrf_token(client, PAGE)
    return client.post(PAGE + path, data={**(data or {}), "csrf_token": token}, **kwargs)


def text(response) -> str:
    return response.get_data(as_text=True)


def reload(connection: ExactConnection) -> ExactConnection:
    db.session.expire_all()
    return db.session.get(ExactConnection, connection.id)


def valid_settings(**overrides) -> dict:
    values = {
        "invoice_journal": "70",
        "credit_note_journal": "71",
        "department_ids": ["dep-be"],
        "sync_credit_notes": "y",
        "read_payments": "y",
        "start_date": "2026-11-01",
        "entry_numbers": "invoice",
        "alert_after": "5",
        "vat_code__0.21": "  4",
        "vat_code__0.06": "  2",
        "vat_code__0": "  0",
        "gl_account__0.21": "6f1c0000-0000-0000-0000-000000700000",
        "condition__after_invoice_date:30": "30",
    }
    return {**values, **overrides}


# -- who may do what -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/connect", "/division", "/refresh", "/settings", "/run", "/disconnect"]
)
def test_a_viewer_sees_the_page_but_cannot_post(ex_app, viewer_client, path):
    make_connection(ex_app)
    page = viewer_client.get(PAGE)
    assert page.status_code == 200
    assert "Nango BV" in text(page)
    assert "Run now" not in text(page) and "Save settings" not in text(page)
    response = post(viewer_client, path, valid_settings())
    assert response.status_code == 403
    assert db.session.scalars(db.select(JobRun)).all() == []
    assert reload(db.session.scalars(db.select(ExactConnection)).one()).forwarding is False


def test_a_viewer_cannot_complete_a_connection(ex_app, viewer_client, rsps):
    response = viewer_client.get(PAGE + "/callback?code=abc&state=x")
    assert response.status_code == 403
    assert len(rsps.calls) == 0


@pytest.mark.parametrize("path", ["/connect", "/settings", "/run", "/disconnect"])
def test_posts_without_the_csrf_token_are_refused(ex_app, admin_client, path):
    connection = make_connection(ex_app)
    make_teamleader()
    response = admin_client.post(PAGE + path, data=valid_settings(country="be"))
    assert response.status_code == 400
    assert "location" not in response.headers
    assert db.session.scalars(db.select(JobRun)).all() == []
    connection = reload(connection)
    assert connection.status == ConnectionStatus.CONNECTED and not connection.forwarding


# -- connecting ----------------------------------------------------------------------------


def start(client, country: str) -> str:
    """Press Connect for ``country``; return the state Exact would send back."""
    response = post(client, "/connect", {"country": country})
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert f"{target.scheme}://{target.netloc}" == f"https://start.exactonline.{country}"
    assert target.path == "/api/oauth2/auth"
    query = parse_qs(target.query)
    assert query["client_id"] == ["exact-cid"]
    assert query["redirect_uri"] == ["https://collector.example/integrations/exact/callback"]
    assert query["response_type"] == ["code"]
    return query["state"][0]


def test_the_page_offers_the_countries_with_belgium_chosen(ex_app, admin_client):
    page = text(admin_client.get(PAGE))
    assert "Not connected" in page
    assert re.search(r'<option selected value="be">Belgium</option>', page)
    for name in ("Netherlands", "Germany", "United Kingdom", "France", "Spain"):
        assert f">{name}</option>" in page
    policy = admin_client.get(PAGE).headers["Content-Security-Policy"]
    assert "https://start.exactonline.nl" in policy and "https://start.exactonline.be" in policy


@pytest.mark.parametrize("country", ["nl", "co.uk", "be"])
def test_connect_sends_the_user_to_the_chosen_countrys_host(ex_app, admin_client, country):
    state = start(admin_client, country)
    assert len(state) > 30


def test_connect_refuses_an_unknown_country(ex_app, admin_client):
    response = post(admin_client, "/connect", {"country": "xx"}, follow_redirects=True)
    assert "Choose the country" in text(response)


def test_the_callback_connects_on_the_host_of_the_country_chosen(ex_app, admin_client, rsps):
    nl = "https://start.exactonline.nl"
    rsps.post(f"{nl}/api/oauth2/token", json=payload("oauth-token-response.json"))
    rsps.get(f"{nl}/api/v1/current/Me", json=payload("current-me-get-response.json"))
    rsps.get(
        f"{nl}/api/v1/{DIVISION}/system/Divisions",
        json=d({"Code": DIVISION, "Description": "Nango BV", "Country": "NL", "Currency": "EUR"}),
    )
    state = start(admin_client, "nl")
    response = admin_client.get(
        f"{PAGE}/callback?code=XTzM%21IAAAACbPTzQJXwFhM&state={state}", follow_redirects=True
    )
    assert "Connected to Exact Online (Netherlands) as Samuel Bodin" in text(response)
    connection = db.session.scalars(db.select(ExactConnection)).one()
    assert (connection.country, connection.host) == ("nl", nl)
    assert connection.choices["divisions"][0]["code"] == DIVISION
    assert "Gcp7!" not in connection.refresh_token_enc
    token_call = rsps.calls[0].request
    assert "code=XTzM%21IAAAACbPTzQJXwFhM" in token_call.body  # decoded once, encoded again
    assert '<option selected value="124132">Nango BV (124132)</option>' in text(response)


@pytest.mark.parametrize(
    "query, message",
    [
        ("code=abc&state=forged", "did not match this session"),
        ("error=access_denied&state={state}", "Access was denied in Exact Online"),
        ("state={state}", "sent no authorization code"),
    ],
)
def test_bad_callbacks_are_refused_and_store_nothing(ex_app, admin_client, rsps, query, message):
    state = start(admin_client, "be")
    response = admin_client.get(
        f"{PAGE}/callback?" + query.format(state=state), follow_redirects=True
    )
    assert message in text(response)
    assert db.session.scalars(db.select(ExactConnection)).all() == []
    assert len(rsps.calls) == 0


def test_a_callback_not_started_here_is_refused(ex_app, admin_client, rsps):
    response = admin_client.get(f"{PAGE}/callback?code=abc&state=x", follow_redirects=True)
    assert "not started here or has expired" in text(response)
    assert db.session.scalars(db.select(ExactConnection)).all() == []


def test_a_refused_code_connects_nothing(ex_app, admin_client, rsps):
    rsps.post(
        f"{BE}/api/oauth2/token",
        status=400,
        json={"error": "invalid_grant", "error_description": "Code expired"},
    )
    state = start(admin_client, "be")
    response = admin_client.get(f"{PAGE}/callback?code=abc&state={state}", follow_redirects=True)
    assert "Nothing was connected" in text(response)
    assert db.session.scalars(db.select(ExactConnection)).all() == []


# -- the administration and its lists ------------------------------------------------------


def mock_lists(rsps, division: int):
    api = f"{BE}/api/v1/{division}"
    rsps.get(f"{api}/financial/Journals", json=payload("journals-get-list-response.json"))
    rsps.get(
        f"{api}/vat/VATCodes",
        json=d(
            {
                "ID": "v1",
                "Code": "  4",
                "Description": "21%",
                "Percentage": 0.21,
                "Type": "E",
                "VATTransactionType": "S",
                "IsBlocked": False,
            },
            {
                "ID": "v2",
                "Code": "  5",
                "Description": "Purchases",
                "Percentage": 0.21,
                "Type": "E",
                "VATTransactionType": "P",
                "IsBlocked": False,
            },
        ),
    )
    rsps.get(
        f"{api}/financial/GLAccounts",
        json=d(
            {"ID": "g1", "Code": "700000", "Description": "Sales", "Type": 110},
            {"ID": "g2", "Code": "400000", "Description": "Debtors", "Type": 20},
        ),
    )
    rsps.get(
        f"{api}/cashflow/PaymentConditions",
        json=d({"Code": "30", "Description": "30 days", "PaymentDays": 30}),
    )
    rsps.get(f"{api}/documents/DocumentTypes", json=d({"ID": 10, "Description": "Sales invoice"}))


def test_choosing_the_administration_reads_its_lists(ex_app, admin_client, rsps):
    connection = make_connection(
        ex_app, division=None, division_name=None, choices={"divisions": CHOICES["divisions"]}
    )
    mock_lists(rsps, 7654321)
    response = post(admin_client, "/division", {"division": "7654321"}, follow_redirects=True)
    assert "Administration Other BV chosen" in text(response)
    connection = reload(connection)
    assert connection.division == 7654321
    assert [j["code"] for j in connection.choices["journals"]] == ["70"]
    assert [v["code"] for v in connection.choices["vat_codes"]] == ["  4"]
    assert [g["code"] for g in connection.choices["gl_accounts"]] == ["700000"]
    assert all("/api/v1/7654321/" in c.request.url for c in rsps.calls)
    assert "70 — Ventes" in text(response)


def test_with_teamleader_connected_its_vat_rates_are_read_too(ex_app, admin_client, rsps):
    connection = make_connection(
        ex_app, division=None, division_name=None, choices={"divisions": CHOICES["divisions"]}
    )
    teamleader = make_teamleader()
    cipher = runtime_setup.cipher(ex_app)
    teamleader.access_token_enc = cipher.encrypt("tl-access")
    teamleader.refresh_token_enc = cipher.encrypt("tl-refresh")
    teamleader.access_expires_at = utcnow() + timedelta(hours=1)
    db.session.commit()
    mock_lists(rsps, DIVISION)
    rsps.post(
        "https://api.focus.teamleader.eu/taxRates.list",
        json={
            "data": [
                {"id": "t21", "description": "21%", "rate": 0.21,
                 "department": {"type": "department", "id": "dep-be"}},
                {"id": "t6", "description": "6%", "rate": 0.06,
                 "department": {"type": "department", "id": "dep-be"}},
            ]
        },
    )  # fmt: skip
    response = post(admin_client, "/division", {"division": str(DIVISION)}, follow_redirects=True)
    assert "Administration Nango BV chosen" in text(response)
    assert [t["rate"] for t in reload(connection).choices["tax_rates"]] == ["0.21", "0.06"]
    page = text(response)
    assert 'name="vat_code__0.21"' in page and 'name="vat_code__0.06"' in page
    assert "21 %" in page


def test_an_administration_not_offered_is_refused(ex_app, admin_client, rsps):
    connection = make_connection(ex_app)
    response = post(admin_client, "/division", {"division": "999"})
    assert response.status_code == 400
    assert "Not a valid choice" in text(response)
    assert reload(connection).division == DIVISION
    assert len(rsps.calls) == 0


def test_read_the_lists_again(ex_app, admin_client, rsps):
    connection = make_connection(ex_app, choices_read_at=None)
    mock_lists(rsps, DIVISION)
    response = post(admin_client, "/refresh", follow_redirects=True)
    assert "The lists were read again" in text(response)
    assert reload(connection).choices_read_at is not None


def test_an_outage_while_reading_the_lists_is_shown(ex_app, admin_client, rsps):
    connection = make_connection(ex_app, choices_read_at=None)
    rsps.get(f"{BE}/api/v1/{DIVISION}/financial/Journals", status=403, json={})
    response = post(admin_client, "/refresh", follow_redirects=True)
    assert "Reading the lists failed" in text(response)
    assert reload(connection).choices_read_at is None


def test_exacts_own_plain_text_error_is_shown(ex_app, admin_client, rsps):
    make_connection(ex_app, choices_read_at=None)
    journals = f"{BE}/api/v1/{DIVISION}/financial/Journals"
    rsps.get(journals, status=400, body="Bad Request - Error in query syntax.")

    response = post(admin_client, "/refresh", follow_redirects=True)

    assert (
        "Reading the lists failed: financial/Journals: HTTP 400: "
        "Bad Request - Error in query syntax."
    ) in text(response)


# -- settings ------------------------------------------------------------------------------


def test_the_settings_offer_only_what_was_read(ex_app, admin_client):
    make_connection(ex_app)
    make_teamleader()
    page = text(admin_client.get(PAGE))
    assert '<option value="70">70 — Verkoopboek</option>' in page
    assert 'name="vat_code__0.21"' in page and 'name="gl_account__0.06"' in page
    assert 'name="condition__after_invoice_date:30"' in page
    assert "30 days after the invoice date" in page
    assert "4 — BTW 21%" in page
    assert "41 — BTW 21% incl." not in page  # inclusive codes don't fit Teamleader's amounts
    assert 'value="dep-be"' in page and "Acme NL" in page


def test_valid_settings_are_saved(ex_app, admin_client):
    connection = make_connection(ex_app)
    make_teamleader()
    response = post(admin_client, "/settings", valid_settings(), follow_redirects=True)
    assert "Exact Online settings saved" in text(response)
    connection = reload(connection)
    assert connection.forwarding
    assert (connection.invoice_journal, connection.credit_note_journal) == ("70", "71")
    assert connection.department_ids == ["dep-be"]
    assert connection.vat_codes == {"0.21": "  4", "0.06": "  2", "0": "  0"}
    assert connection.gl_accounts == {"0.21": "6f1c0000-0000-0000-0000-000000700000"}
    assert connection.payment_conditions == {"after_invoice_date:30": "30"}
    assert connection.sync_credit_notes and connection.read_payments
    assert not connection.only_sent and not connection.skip_email_match
    assert connection.start_date == date(2026, 11, 1)
    assert connection.entry_numbers == EntryNumbering.INVOICE
    assert connection.alert_after == 5
    # Shown back as saved: the department's rates only now.
    page = text(admin_client.get(PAGE))
    assert 'name="vat_code__0"' not in page
    assert '<option selected value="  4">' in page


@pytest.mark.parametrize(
    "change, field",
    [
        ({"vat_code__0.21": "999"}, "vat_code__0.21"),
        ({"vat_code__0.21": " 41"}, "vat_code__0.21"),  # inclusive: not offered
        ({"gl_account__0.21": "not-an-account"}, "gl_account__0.21"),
        ({"invoice_journal": "71"}, "invoice_journal"),  # a return journal
        ({"condition__cash:0": "99"}, "condition__cash:0"),
        ({"department_ids": ["dep-xx"]}, "department_ids"),
        ({"entry_numbers": "random"}, "entry_numbers"),
        ({"alert_after": "51"}, "alert_after"),
        ({"start_date": "yesterday"}, "start_date"),
    ],
)
def test_invalid_settings_are_refused_and_nothing_is_saved(ex_app, admin_client, change, field):
    connection = make_connection(ex_app)
    make_teamleader()
    response = post(admin_client, "/settings", valid_settings(**change))
    assert response.status_code == 400
    assert re.search(rf'class="error" data-field="{re.escape(field)}"', text(response))
    connection = reload(connection)
    assert not connection.forwarding
    assert connection.invoice_journal is None and connection.vat_codes == {}


def test_a_mapping_refused_by_the_service_is_shown_on_its_rows(ex_app, admin_client):
    make_connection(ex_app)
    make_teamleader()
    # No journal chosen: the form accepts the empty choice, the service refuses it.
    response = post(admin_client, "/settings", valid_settings(invoice_journal=""))
    assert response.status_code == 400
    assert "Choose a sales journal of the administration." in text(response)


# -- running, disconnecting ----------------------------------------------------------------


def test_run_now_starts_the_forwarding_job(ex_app, admin_client):
    make_connection(ex_app, forwarding=True)
    response = post(admin_client, "/run", follow_redirects=True)
    assert "Forwarding to Exact Online started" in text(response)
    [run] = db.session.scalars(db.select(JobRun)).all()
    assert run.name == "forward_to_exact" and run.args == ["manual"]


def test_disconnect_forgets_the_tokens(ex_app, admin_client):
    connection = make_connection(ex_app, forwarding=True)
    response = post(admin_client, "/disconnect", follow_redirects=True)
    assert "Exact Online is disconnected" in text(response)
    connection = reload(connection)
    assert connection.status == ConnectionStatus.DISCONNECTED
    assert connection.refresh_token_enc is None and not connection.forwarding
    assert "Not connected" in text(admin_client.get(PAGE))


def test_a_connection_needing_a_reconnect_says_so(ex_app, admin_client):
    make_connection(
        ex_app,
        status=ConnectionStatus.RECONNECT_NEEDED,
        last_error="Exact Online refused the refresh token (invalid_grant); connect again.",
    )
    page = text(admin_client.get(PAGE))
    assert "Reconnect needed: Exact Online refused the refresh token" in page
    assert "Reconnect Exact Online" in page
    assert 'action="/integrations/exact/settings"' not in page
    response = post(admin_client, "/run", follow_redirects=True)
    assert "Connect Exact Online first" in text(response)
    assert db.session.scalars(db.select(JobRun)).all() == []


# -- history and the documents -------------------------------------------------------------


def test_the_history_shows_runs_errors_and_failing_documents(ex_app, admin_client):
    make_connection(ex_app, forwarding=True)
    failing = make_invoice(number="2026/0042")
    db.session.add(
        ExactBooking(
            invoice=failing,
            division=DIVISION,
            status=BookingStatus.FAILED,
            failures=3,
            reason="No Exact VAT code is mapped for 12 %.",
            last_attempt_at=utcnow(),
        )
    )
    now = utcnow()
    db.session.add_all(
        [
            ExactSyncRun(
                division=DIVISION,
                trigger=SyncTrigger.MANUAL,
                started_at=now - timedelta(minutes=5),
                finished_at=now,
                booked=12,
                found=2,
                failed=1,
                waiting=4,
                paid=3,
                calls=57,
                errors=[
                    {
                        "invoice_id": failing.id,
                        "number": "2026/0042",
                        "reason": "No Exact VAT code is mapped for 12 %.",
                    }
                ],
            ),
            ExactSyncRun(
                division=DIVISION,
                trigger=SyncTrigger.SCHEDULE,
                started_at=now - timedelta(hours=1),
                finished_at=now - timedelta(hours=1),
                problem="The run stopped: Exact Online is unavailable",
            ),
            ExactSyncRun(
                division=DIVISION,
                trigger=SyncTrigger.SCHEDULE,
                started_at=now - timedelta(days=8),
                booked=99,
            ),
        ]
    )
    db.session.commit()
    page = text(admin_client.get(PAGE))
    history = page[page.index('id="exact-history"') :]
    rows = re.findall(r'<tr data-run="\d+">(.*?)</tr>', history, re.S)
    assert len(rows) == 2  # the run of 8 days ago is not shown
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td.*?</td>", rows[0], re.S)]
    assert cells[1:9] == ["manual", "12", "2", "1", "4", "3", "57", ""]
    assert "The run stopped: Exact Online is unavailable" in rows[1]
    link = f'<a href="/invoices/{failing.id}">2026/0042</a>: No Exact VAT code is mapped for 12 %.'
    assert link in history
    failing_section = page[page.index('id="exact-failing"') : page.index('id="exact-history"')]
    assert f'data-failing="{failing.id}"' in failing_section
    assert "No Exact VAT code is mapped for 12 %." in failing_section
    assert re.search(r'<td class="num">3</td>', failing_section)


def test_the_overview_and_the_detail_show_the_booking(ex_app, admin_client):
    booked = make_invoice(number="2026/0001")
    unnumbered = make_invoice(number="2026/0002")
    failed = make_invoice(number="2026/0003")
    plain = make_invoice(number="2026/0004")
    db.session.add_all(
        [
            ExactBooking(
                invoice=booked,
                division=DIVISION,
                status=BookingStatus.BOOKED,
                journal="70",
                entry_id="e0000000-0000-0000-0000-000000000001",
                entry_number=26700012,
                booked_at=utcnow(),
            ),
            ExactBooking(
                invoice=unnumbered,
                division=DIVISION,
                status=BookingStatus.BOOKED,
                entry_id="e0000000-0000-0000-0000-000000000002",
            ),
            ExactBooking(
                invoice=failed,
                division=DIVISION,
                status=BookingStatus.FAILED,
                failures=2,
                reason="Exact Online refused the entry: Account is blocked",
            ),
        ]
    )
    db.session.commit()
    overview = text(admin_client.get("/invoices/"))
    assert "<th>Exact</th>" in overview

    def cell(invoice):
        row = re.search(rf'<tr data-invoice="{invoice.id}">(.*?)</tr>', overview, re.S).group(1)
        return re.search(r'<td data-exact="(\w+)">(.*?)</td>', row, re.S).groups()

    assert cell(booked) == ("booked", "26700012")
    assert cell(unnumbered) == ("booked", "booked")
    assert cell(failed)[0] == "failed" and "Account is blocked" in cell(failed)[1]
    assert cell(plain)[0] == "none"

    detail = text(admin_client.get(f"/invoices/{booked.id}"))
    assert "entry 26700012 in journal 70" in detail
    detail = text(admin_client.get(f"/invoices/{failed.id}"))
    assert "Exact Online refused the entry: Account is blocked" in detail
    assert "2 failed runs" in detail
    assert 'data-exact="' not in text(admin_client.get(f"/invoices/{plain.id}"))


def test_the_overview_loads_the_bookings_with_the_page(ex_app, admin_client):
    for n in range(30):
        invoice = make_invoice(number=f"2026/1{n:03d}")
        db.session.add(
            ExactBooking(
                invoice=invoice,
                division=DIVISION,
                status=BookingStatus.BOOKED,
                entry_id=f"e0000000-0000-0000-0000-{n:012d}",
                entry_number=1000 + n,
            )
        )
    db.session.commit()
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        page = text(admin_client.get("/invoices/"))
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert page.count('data-exact="booked"') == 30
    assert len([s for s in statements if "FROM exact_booking" in s]) == 1


# -- issue 25, point 7: a VAT code must carry its rate's percentage --------------------------


NINE = {
    **CHOICES,
    "tax_rates": [
        *CHOICES["tax_rates"],
        {"id": "t9", "rate": "0.09", "department_id": "dep-be", "description": "9%"},
    ],
}


def test_a_code_of_another_percentage_is_refused_on_its_row(ex_app, admin_client):
    connection = make_connection(ex_app, choices=NINE)
    make_teamleader()

    response = post(
        admin_client,
        "/settings",
        valid_settings(**{"vat_code__0.09": "  0", "vat_code__0.06": "  4"}),
    )

    assert response.status_code == 400
    page = text(response)
    assert re.search(r'class="error" data-field="vat_code__0.09">VAT code 0 — BTW 0% is 0 %', page)
    assert "but this Teamleader rate is 9 %: choose a code of 9 %." in page
    assert re.search(r'data-field="vat_code__0.06">VAT code 4 — BTW 21% is 21 %', page)
    assert 'data-field="vat_code__0.21"' not in page  # its code fits
    connection = reload(connection)
    assert not connection.forwarding and connection.vat_codes == {}


def test_a_code_without_a_known_percentage_is_refused(ex_app, admin_client):
    codes = [{**c, "percentage": ""} if c["code"] == "  2" else c for c in CHOICES["vat_codes"]]
    make_connection(ex_app, choices={**CHOICES, "vat_codes": codes})
    make_teamleader()

    response = post(admin_client, "/settings", valid_settings())

    assert response.status_code == 400
    assert "Exact gave no percentage for VAT code 2 — BTW 6%" in text(response)


def test_unmapped_rates_are_prefilled_with_the_code_of_their_percentage(ex_app, admin_client):
    make_connection(ex_app, choices=NINE)
    make_teamleader()

    page = text(admin_client.get(PAGE))

    def selected(rate: str) -> str | None:
        row = re.search(rf'<tr data-rate="{re.escape(rate)}">(.*?)</tr>', page, re.S).group(1)
        select = re.search(r'<select[^>]*name="vat_code__[^"]*"[^>]*>(.*?)</select>', row, re.S)
        match = re.search(r'<option selected value="([^"]*)"', select.group(1))
        return match.group(1) if match else None

    assert selected("0.21") == "  4"  # type E of 21 %, not the inclusive " 41"
    assert selected("0.06") == "  2"
    assert selected("0.09") == ""  # no 9 % code: "not mapped", left for a person
    assert "4 — BTW 21% (21 %)" in page


def test_a_saved_mapping_is_shown_as_saved_not_as_suggested(ex_app, admin_client):
    make_connection(ex_app, vat_codes={"0.21": "  4"}, forwarding=True)
    make_teamleader()

    page = text(admin_client.get(PAGE))

    row = re.search(r'<tr data-rate="0.21">(.*?)</tr>', page, re.S).group(1)
    assert '<option selected value="  4">' in row
