"""Sessions a person can end: logout, a new password and deactivation end every session of
that user (a cookie copied before is refused); idle and absolute lifetimes."""

from __future__ import annotations

import pytest

from collector.accounts.models import AuditEvent
from collector.extensions import db
from tests.conftest import FreshContextClient, csrf_token, login


def new_client(app):
    app.test_client_class = FreshContextClient
    return app.test_client()


def copy_of(client, app):
    """Another browser holding a copy of ``client``'s session cookie."""
    copy = new_client(app)
    copy.set_cookie("session", client.get_cookie("session").value)
    return copy


def test_a_cookie_copied_before_logout_no_longer_works(app, admin_client):
    copy = copy_of(admin_client, app)
    assert copy.get("/").status_code == 200
    response = admin_client.post("/logout", data={"csrf_token": csrf_token(admin_client, "/")})
    assert response.status_code == 302
    assert copy.get("/").status_code == 302
    assert admin_client.get("/").status_code == 302
    [row] = db.session.scalars(db.select(AuditEvent).filter_by(action="logout"))
    assert row.actor == "user:admin@example.com"


def test_logout_ends_the_users_sessions_in_other_browsers_too(app, admin, admin_client):
    elsewhere = new_client(app)
    assert login(elsewhere, admin.email).status_code == 302
    admin_client.post("/logout", data={"csrf_token": csrf_token(admin_client, "/")})
    assert elsewhere.get("/").status_code == 302


def test_a_new_password_ends_the_other_sessions_but_not_this_one(app, admin, admin_client):
    elsewhere = new_client(app)
    assert login(elsewhere, admin.email).status_code == 302
    data = {
        "csrf_token": csrf_token(admin_client, "/settings/password"),
        "current": "correct horse battery",
        "password": "a much longer passphrase",
        "repeat": "a much longer passphrase",
    }
    response = admin_client.post("/settings/password", data=data)
    assert response.status_code == 302
    assert admin_client.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 302
    assert login(elsewhere, admin.email).status_code == 400
    assert login(elsewhere, admin.email, "a much longer passphrase").status_code == 302
    [row] = db.session.scalars(db.select(AuditEvent).filter_by(action="user.password_changed"))
    assert row.details == {"by": "self"}


@pytest.mark.parametrize(
    ("current", "password", "repeat", "message"),
    [
        ("wrong one", "a much longer passphrase", "a much longer passphrase", "This is not your"),
        ("correct horse battery", "short", "short", "At least 10 characters."),
        ("correct horse battery", "a much longer passphrase", "another one", "passwords differ"),
    ],
)
def test_a_new_password_is_refused_with_a_reason(viewer_client, current, password, repeat, message):
    data = {
        "csrf_token": csrf_token(viewer_client, "/settings/password"),
        "current": current,
        "password": password,
        "repeat": repeat,
    }
    response = viewer_client.post("/settings/password", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert viewer_client.get("/").status_code == 200


def test_changing_the_password_needs_the_csrf_token(viewer_client):
    data = {"current": "correct horse battery", "password": "x" * 12, "repeat": "x" * 12}
    assert viewer_client.post("/settings/password", data=data).status_code == 400


def test_deactivation_ends_the_users_sessions(app, admin, viewer, admin_client):
    viewer_browser = new_client(app)
    assert login(viewer_browser, viewer.email).status_code == 302
    path = f"/settings/users/{viewer.id}/deactivate"
    token = csrf_token(admin_client, f"/settings/users/{viewer.id}")
    assert admin_client.post(path, data={"csrf_token": token}).status_code == 302
    assert viewer_browser.get("/").status_code == 302
    assert login(viewer_browser, viewer.email).status_code == 400


@pytest.fixture
def lifetimes(app, monkeypatch):
    """The default lifetimes (the suite's own app keeps sessions open across clock moves)."""
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 480)
    monkeypatch.setitem(app.config, "SESSION_MAX_HOURS", 168)
    return app.config


def test_a_session_unused_past_the_idle_lifetime_ends(lifetimes, admin_client, clock):
    clock.advance(hours=7, minutes=59)
    assert admin_client.get("/").status_code == 200
    clock.advance(hours=7, minutes=59)  # used in between: still within the idle lifetime
    assert admin_client.get("/").status_code == 200
    clock.advance(hours=8, minutes=1)
    assert admin_client.get("/").status_code == 302


def test_a_session_ends_at_its_absolute_lifetime_however_much_it_is_used(
    lifetimes, admin_client, clock
):
    lifetimes["SESSION_MAX_HOURS"] = 24
    for _ in range(3):
        clock.advance(hours=7)
        assert admin_client.get("/").status_code == 200
    clock.advance(hours=3, minutes=1)
    assert admin_client.get("/").status_code == 302


def test_the_lifetimes_are_settings():
    from collector import config

    loaded = config.load({"SESSION_IDLE_MINUTES": "30", "SESSION_MAX_HOURS": "12"})
    assert (loaded["SESSION_IDLE_MINUTES"], loaded["SESSION_MAX_HOURS"]) == (30, 12)
    defaults = config.load({})
    assert (defaults["SESSION_IDLE_MINUTES"], defaults["SESSION_MAX_HOURS"]) == (480, 168)
