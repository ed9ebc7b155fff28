"""Login, logout and the session cookie."""

from tests.conftest import csrf_token, login


def test_login_page_renders_with_csrf(client, app):
    response = client.get("/login")
    assert response.status_code == 200
    assert 'name="csrf_token"' in response.get_data(as_text=True)


def test_wrong_password_is_refused(client, admin):
    response = login(client, admin.email, "not the password")
    assert response.status_code == 400
    assert "Unknown email or wrong password." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_login_sets_a_hardened_session_cookie(client, admin):
    response = login(client, admin.email)
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/").status_code == 200


def test_inactive_user_cannot_log_in(client, admin, app):
    from collector.extensions import db

    admin.active = False
    db.session.commit()
    assert login(client, admin.email).status_code == 400


def test_next_only_follows_local_paths(client, admin):
    token = csrf_token(client)
    data = {"email": admin.email, "password": "correct horse battery", "csrf_token": token}
    response = client.post("/login?next=https://evil.example/", data=data)
    assert response.headers["Location"] == "/"


def test_logout_needs_csrf_and_ends_the_session(admin_client):
    token = csrf_token(admin_client, "/")
    assert admin_client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert admin_client.get("/").status_code == 302


def test_pages_send_security_headers(admin_client):
    headers = admin_client.get("/").headers
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
