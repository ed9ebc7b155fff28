"""flask commands: users, API keys, demo data."""

from collector.accounts import users as accounts
from collector.accounts.models import ApiKey, Role, User
from collector.documents.models import Profile
from collector.extensions import db


def test_create_user(app):
    runner = app.test_cli_runner()
    args = ["create-user", "Finance@Example.com", "--password", "long enough pw", "--role", "admin"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    user = db.session.scalars(db.select(User)).one()
    assert user.email == "finance@example.com" and user.role == Role.ADMIN
    assert user.password_hash != "long enough pw" and user.check_password("long enough pw")


def test_create_user_refuses_short_password(app):
    result = app.test_cli_runner().invoke(args=["create-user", "a@b.c", "--password", "short"])
    assert result.exit_code != 0
    assert "password: At least 10 characters." in result.output
    assert db.session.scalars(db.select(User)).all() == []


def test_create_api_key_prints_a_working_key(app, client):
    result = app.test_cli_runner().invoke(args=["create-api-key", "erp"])
    assert result.exit_code == 0
    plain = result.output.strip()
    assert accounts.key_for(plain).name == "erp"
    assert db.session.scalars(db.select(ApiKey)).one().key_hash != plain
    response = client.get("/api/v1/profiles", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 200


def test_demo_setup_is_repeatable(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo-setup"])
    second = runner.invoke(args=["demo-setup"])
    assert first.exit_code == second.exit_code == 0
    assert first.output == second.output  # the same login, printed again
    email, password = first.output.split("Demo login: ")[1].strip().split(" / ")
    assert accounts.authenticate(email, password) is not None
    assert len(db.session.scalars(db.select(Profile)).all()) == 3
