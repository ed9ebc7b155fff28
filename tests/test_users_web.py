"""Users managed in the app by admins: invite (a one-time link by mail, through the real
SMTP test server), roles, deactivation, reset links, "forgot your password?"; viewers
cannot reach these pages; every form needs its CSRF token; every change is audited."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

import pytest

from collector.accounts import alerts
from collector.accounts.models import AuditEvent, PasswordLink, Role, User
from collector.extensions import db
from collector.mail.models import MailMessage
from tests.conftest import FreshContextClient, csrf_token, login

LINK = re.compile(r"http://\S+/password/new/[A-Za-z0-9_-]+")
NEUTRAL = "If this address has a login, a link to choose a new password is on its way."


@pytest.fixture(autouse=True)
def plain_settings(app, monkeypatch):
    """The links these tests read are http, and no mail server is set unless a test asks
    (``mailing``): whatever settings tests before left on the app."""
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    monkeypatch.setitem(app.config, "MAIL_HOST", "")


@pytest.fixture
def mailing(app, smtp_server):
    """Mail to the SMTP test server (the app's configuration is restored afterwards)."""
    saved = dict(app.config)
    app.config.update(
        MAIL_HOST=smtp_server.host,
        MAIL_PORT=smtp_server.port,
        MAIL_SECURITY="none",
        MAIL_FROM="collector@example.com",
    )
    yield smtp_server
    app.config.clear()
    app.config.update(saved)


def new_client(app):
    app.test_client_class = FreshContextClient
    return app.test_client()


def actions() -> list[str]:
    db.session.expire_all()
    return [r.action for r in db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id))]


def invite(client, email="new@example.com", role="viewer", locale="en"):
    data = {
        "csrf_token": csrf_token(client, "/settings/users/new"),
        "email": email,
        "role": role,
        "locale": locale,
    }
    return client.post("/settings/users/new", data=data)


def link_in(message) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    return LINK.search(text).group(0)


def choose(client, link: str, password: str, repeat: str | None = None):
    path = urlsplit(link).path
    data = {"csrf_token": csrf_token(client, path), "password": password}
    data["repeat"] = password if repeat is None else repeat
    return client.post(path, data=data)


def user(email: str) -> User:
    db.session.expire_all()
    return db.session.execute(db.select(User).filter_by(email=email)).scalar_one()


def test_invite_mail_link_choose_a_password_and_log_in(app, admin_client, mailing):
    response = invite(admin_client, locale="en")
    assert response.status_code == 302
    assert "was mailed to new@example.com" in admin_client.get("/settings/users/").get_data(
        as_text=True
    )
    [message] = mailing.messages
    assert message["To"] == "new@example.com"
    link = link_in(message)
    token = link.rsplit("/", 1)[1]

    # Only the hash is stored; the mail log keeps the mail without the link.
    [row] = db.session.scalars(db.select(PasswordLink))
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    [kept] = db.session.scalars(db.select(MailMessage))
    assert token not in kept.body_text and alerts.LINK_LEFT_OUT in kept.body_text
    assert user("new@example.com").role == Role.VIEWER

    stranger = new_client(app)
    assert login(stranger, "new@example.com", "").status_code == 400
    page = stranger.get(urlsplit(link).path)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    short = choose(stranger, link, "too short")
    assert short.status_code == 400 and "At least 10 characters." in short.get_data(as_text=True)
    assert choose(stranger, link, "my own long password").status_code == 302
    assert login(stranger, "new@example.com", "my own long password").status_code == 302
    # Once only.
    assert new_client(app).get(urlsplit(link).path).status_code == 404
    done = actions()
    assert done.index("user.created") < done.index("user.password_changed") < len(done) - 1
    assert done[-1] == "login.succeeded"


def test_the_invitation_is_written_in_the_language_chosen(admin_client, mailing):
    invite(admin_client, locale="fr_BE")
    [message] = mailing.messages
    assert message["Subject"] == "Votre accès à collector"


def test_without_a_mail_server_the_admin_is_handed_the_link(app, admin_client):
    assert not app.config["MAIL_HOST"]
    invite(admin_client)
    page = admin_client.get("/settings/users/").get_data(as_text=True)
    assert "Give them this one-time link yourself" in page
    assert LINK.search(page)


def test_a_link_expires_and_a_newer_one_retires_it(app, admin_client, mailing, clock):
    invite(admin_client)
    first = link_in(mailing.messages[0])
    new = user("new@example.com")
    token = csrf_token(admin_client, f"/settings/users/{new.id}")
    admin_client.post(f"/settings/users/{new.id}/reset", data={"csrf_token": token})
    second = link_in(mailing.messages[1])
    browser = new_client(app)
    assert browser.get(urlsplit(first).path).status_code == 404
    assert browser.get(urlsplit(second).path).status_code == 200
    clock.advance(hours=24)
    assert browser.get(urlsplit(second).path).status_code == 404


def test_a_reset_link_sets_a_new_password_and_ends_the_sessions(app, admin, viewer, mailing):
    admin_browser, viewer_browser = new_client(app), new_client(app)
    login(admin_browser, admin.email)
    login(viewer_browser, viewer.email)
    token = csrf_token(admin_browser, f"/settings/users/{viewer.id}")
    response = admin_browser.post(f"/settings/users/{viewer.id}/reset", data={"csrf_token": token})
    assert response.status_code == 302
    link = link_in(mailing.messages[0])
    # The old password works until the new one is chosen.
    assert viewer_browser.get("/").status_code == 200
    assert choose(new_client(app), link, "brand new passphrase").status_code == 302
    assert viewer_browser.get("/").status_code == 302
    assert login(new_client(app), viewer.email).status_code == 400
    assert login(new_client(app), viewer.email, "brand new passphrase").status_code == 302
    assert "user.password_reset_sent" in actions()


def test_forgot_password_says_the_same_whether_the_email_exists(app, admin, mailing):
    answers = []
    for email in ("admin@example.com", "nobody@example.com"):
        browser = new_client(app)
        data = {"csrf_token": csrf_token(browser, "/password/forgot"), "email": email}
        response = browser.post("/password/forgot", data=data, follow_redirects=True)
        answers.append((response.status_code, NEUTRAL in response.get_data(as_text=True)))
    assert answers == [(200, True), (200, True)]
    [message] = mailing.messages
    assert message["To"] == "admin@example.com"
    link = link_in(message)
    assert choose(new_client(app), link, "remembered at last").status_code == 302
    assert login(new_client(app), admin.email, "remembered at last").status_code == 302


def test_forgot_password_mails_no_deactivated_user(app, admin, viewer, mailing):
    viewer.active = False
    db.session.commit()
    browser = new_client(app)
    data = {"csrf_token": csrf_token(browser, "/password/forgot"), "email": viewer.email}
    assert browser.post("/password/forgot", data=data).status_code == 302
    assert mailing.messages == []


def test_the_users_list_shows_role_status_and_last_login(admin_client, viewer, mailing):
    invite(admin_client, email="pending@example.com")
    assert admin_client.get("/settings/users/new").status_code == 200
    assert admin_client.get(f"/settings/users/{viewer.id}").status_code == 200
    page = admin_client.get("/settings/users/").get_data(as_text=True)
    for text in ("admin@example.com", "viewer@example.com", "pending@example.com", "invited"):
        assert text in page


def test_an_admin_changes_a_role_and_it_is_audited(admin_client, viewer):
    path = f"/settings/users/{viewer.id}"
    data = {"csrf_token": csrf_token(admin_client, path), "role": "admin"}
    assert admin_client.post(path, data=data).status_code == 302
    assert user(viewer.email).role == Role.ADMIN
    row = db.session.scalars(db.select(AuditEvent).filter_by(action="user.role_changed")).one()
    assert row.details == {"email": viewer.email, "from": "viewer", "to": "admin"}
    assert row.actor == "user:admin@example.com"


def test_deactivate_and_reactivate(admin_client, viewer):
    token = csrf_token(admin_client, f"/settings/users/{viewer.id}")
    admin_client.post(f"/settings/users/{viewer.id}/deactivate", data={"csrf_token": token})
    assert not user(viewer.email).active
    admin_client.post(f"/settings/users/{viewer.id}/reactivate", data={"csrf_token": token})
    assert user(viewer.email).active
    assert actions()[-2:] == ["user.deactivated", "user.reactivated"]


def test_the_last_admin_cannot_deactivate_or_demote_themself(admin, admin_client):
    path = f"/settings/users/{admin.id}"
    token = csrf_token(admin_client, path)
    refused = admin_client.post(f"{path}/deactivate", data={"csrf_token": token})
    assert refused.status_code == 409
    assert "There must always be an active admin" in refused.get_data(as_text=True)
    demoted = admin_client.post(path, data={"csrf_token": token, "role": "viewer"})
    assert demoted.status_code == 409
    assert user(admin.email).role == Role.ADMIN and user(admin.email).active
    assert "user.deactivated" not in actions() and "user.role_changed" not in actions()


def test_an_existing_email_or_a_bad_one_is_refused(admin_client):
    assert invite(admin_client, email="admin@example.com").status_code == 400
    page = invite(admin_client, email="not an email").get_data(as_text=True)
    assert "A valid email address is required." in page


@pytest.mark.parametrize("path", ["/settings/users/", "/settings/users/new", "/settings/users/1"])
def test_viewers_cannot_reach_the_user_pages(viewer_client, path):
    assert viewer_client.get(path).status_code == 403


def test_viewers_cannot_post_to_them_either(viewer_client, admin):
    token = csrf_token(viewer_client, "/settings/password")
    data = {"csrf_token": token, "email": "x@example.com", "role": "admin", "locale": "en"}
    assert viewer_client.post("/settings/users/new", data=data).status_code == 403
    path = f"/settings/users/{admin.id}/deactivate"
    assert viewer_client.post(path, data={"csrf_token": token}).status_code == 403
    assert user(admin.email).active


def test_the_user_pages_need_a_login(client):
    response = client.get("/settings/users/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_every_form_needs_its_csrf_token(app, admin_client, viewer, mailing):
    data = {"email": "new@example.com", "role": "viewer", "locale": "en"}
    assert admin_client.post("/settings/users/new", data=data).status_code == 400
    for action in ("deactivate", "reset"):
        admin_client.post(f"/settings/users/{viewer.id}/{action}", data={})
    admin_client.post(f"/settings/users/{viewer.id}", data={"role": "admin"})
    assert user(viewer.email).active and user(viewer.email).role == Role.VIEWER
    assert mailing.messages == []
    anonymous = new_client(app)
    assert anonymous.post("/password/forgot", data={"email": viewer.email}).status_code == 400
    assert mailing.messages == []
    assert db.session.execute(db.select(User).filter_by(email="new@example.com")).first() is None


def test_forgot_password_mails_only_once_its_answer_has_gone(app, admin, mailing):
    browser = new_client(app)
    data = {"csrf_token": csrf_token(browser, "/password/forgot"), "email": admin.email}
    response = browser.post("/password/forgot", data=data, buffered=False)
    assert response.status_code == 302
    assert mailing.messages == []  # the answer did not wait for the mail server
    response.close()
    [message] = mailing.messages
    assert message["To"] == admin.email
