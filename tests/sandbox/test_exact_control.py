"""The control API of the Exact emulator: state, reset, clock, revoke, the demo page."""

from __future__ import annotations

from .exact_support import DIVISION, logged_in, seeded


def test_state_lists_divisions_with_their_master_data():
    exact = logged_in()
    state = exact.client.get("/_control/state").get_json()
    assert state["country"] == "be"
    assert [d["code"] for d in state["divisions"]] == [DIVISION, 7654321]
    gl = {g["Code"]: g["ID"] for g in state["divisions"][0]["gl_accounts"]}
    assert gl["700000"] == seeded("glaccount", "700000")
    journals = {j["Code"]: j["Type"] for j in state["divisions"][0]["journals"]}
    assert journals == {"10": 10, "20": 12, "70": 20, "71": 21, "72": 20, "90": 90}


def test_reset_applies_overrides_and_forgets_grants():
    exact = logged_in()
    exact.created("crm/Accounts", {"Name": "Tijdelijk"})
    reset = exact.client.post("/_control/reset", json={"ACCOUNT_COUNT": 3})
    assert reset.status_code == 200
    assert len(reset.get_json()["divisions"][0]["accounts"]) == 3
    assert exact.get("crm/Accounts").status_code == 401
    exact.login()
    assert len(exact.results("crm/Accounts")) == 3
    assert exact.client.post("/_control/reset", json={"NOPE": 1}).status_code == 400


def test_clock_moves_and_drives_token_expiry():
    exact = logged_in()
    before = exact.client.get("/_control/clock").get_json()["timestamp"]
    moved = exact.client.post("/_control/clock", json={"advance": 601}).get_json()
    assert moved["timestamp"] - before >= 601
    assert exact.get("current/Me", division=None).status_code == 401


def test_revoke_kills_every_token():
    exact = logged_in()
    assert exact.client.post("/_control/revoke").status_code == 204
    assert exact.get("current/Me", division=None).status_code == 401
    exact.emulator.clock.advance(600)
    assert exact.refresh(exact.tokens["refresh_token"]).status_code == 400


def test_fault_with_a_json_body_is_answered_verbatim():
    exact = logged_in()
    body = {"error": {"code": "", "message": {"lang": "", "value": "Ongeldige referentie"}}}
    fault = {"method": "POST", "path_contains": "SalesEntries", "status": 500, "body": body}
    exact.client.post("/_control/faults", json=fault)
    response = exact.post("salesentry/SalesEntries", {"Journal": "70"})
    assert response.status_code == 500 and response.get_json() == body
    assert exact.client.get("/_control/faults").get_json() == []


def test_demo_page():
    exact = logged_in()
    page = exact.client.get("/_control/").get_data(as_text=True)
    assert "1234567 Demo BV" in page and "Brouwerij De Klok" in page
