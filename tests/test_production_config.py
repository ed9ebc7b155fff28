"""Production fails closed: anything but ENV=development or ENV=test refuses to start on
built-in or weak secrets, and says what to set; ``flask check-config`` says the same."""

from __future__ import annotations

import secrets

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from flask.cli import cli as flask_cli

from collector import config, create_app
from collector.core.crypto import TokenCipher, derived_key
from tests.conftest import app_config

STRONG = {
    "SECRET_KEY": secrets.token_urlsafe(48),
    "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "PUBLIC_BASE_URL": "https://collect.example.com",
}


def production(tmp_root, **settings) -> dict:
    return app_config(tmp_root, **{"ENV": "production", **STRONG, **settings})


def refusal(settings: dict) -> str:
    with pytest.raises(config.UnsafeConfiguration) as refused:
        create_app(settings)
    return str(refused.value)


@pytest.mark.parametrize("env", ["production", "Production", "prod", "", "staging", " test"])
def test_any_env_but_development_or_test_refuses_the_built_in_secrets(tmp_root, env):
    settings = app_config(
        tmp_root, ENV=env, SECRET_KEY=config.DEV_SECRET, PUBLIC_BASE_URL=config.BUILT_IN_URL
    )

    message = refusal(settings)

    assert f"ENV={env!r} runs as production" in message
    assert "SECRET_KEY is the built-in development key" in message
    assert "secrets.token_urlsafe(48)" in message
    assert "TOKEN_ENCRYPTION_KEY is not set" in message
    assert "Fernet.generate_key()" in message
    assert "PUBLIC_BASE_URL (http://127.0.0.1:5000) must be the https:// address" in message


def test_env_from_the_environment_counts_as_set_and_flask_env_stands_in(monkeypatch, tmp_root):
    for name in ("ENV", "FLASK_ENV", "SECRET_KEY", "TOKEN_ENCRYPTION_KEY", "PUBLIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    assert config.load()["ENV"] == "development"  # `make run` sets nothing

    monkeypatch.setenv("ENV", "Production")
    assert (config.load()["ENV"], config.load()["ENV_AS_SET"]) == ("production", "Production")

    monkeypatch.delenv("ENV")
    monkeypatch.setenv("FLASK_ENV", "production")
    assert config.load()["ENV"] == "production"
    with pytest.raises(config.UnsafeConfiguration):
        create_app({"DATABASE_URL": "sqlite://", "INSTANCE_PATH": str(tmp_root / "instance")})


@pytest.mark.parametrize(
    ("secret", "why"),
    [
        ("", "is 0 characters long"),
        ("a", "is 1 characters long"),
        ("faults-suite-secret", "is 19 characters long"),
        ("s" * 40, "is too regular"),
        ("abcd" * 9, "is too regular"),
    ],
)
def test_a_weak_secret_key_is_refused(tmp_root, secret, why):
    assert f"SECRET_KEY {why}" in refusal(production(tmp_root, SECRET_KEY=secret))


@pytest.mark.parametrize(
    "keys",
    ["notakey", "k", f"{Fernet.generate_key().decode()},notakey", "  ,  "],
)
def test_a_token_encryption_key_must_be_fernet_keys(tmp_root, keys):
    assert "TOKEN_ENCRYPTION_KEY" in refusal(production(tmp_root, TOKEN_ENCRYPTION_KEY=keys))


def test_the_token_encryption_key_may_not_come_from_the_secret_key(tmp_root):
    secret = STRONG["SECRET_KEY"]
    for key in (derived_key(secret).decode(), secret):
        message = refusal(production(tmp_root, SECRET_KEY=secret, TOKEN_ENCRYPTION_KEY=key))
        assert "TOKEN_ENCRYPTION_KEY" in message


@pytest.mark.parametrize(
    "url", ["http://collect.example.com", "ftp://collect.example.com", "", "https://"]
)
def test_the_public_url_must_be_https(tmp_root, url):
    assert "PUBLIC_BASE_URL" in refusal(production(tmp_root, PUBLIC_BASE_URL=url))


def test_strong_settings_start_and_plain_http_is_allowed_on_loopback_only(tmp_root):
    app = create_app(production(tmp_root))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    # The fault suite rehearses production on one machine, where nothing else reaches it.
    create_app(production(tmp_root, PUBLIC_BASE_URL="http://127.0.0.1:5602"))
    create_app(production(tmp_root, PUBLIC_BASE_URL="http://[::1]:5602"))


@pytest.mark.parametrize("env", ["development", "test"])
def test_development_and_test_run_on_the_built_in_secrets(tmp_root, env):
    app = create_app(app_config(tmp_root, ENV=env, SECRET_KEY=config.DEV_SECRET))
    assert app.config["ENV"] == env


def test_rotation_reads_old_values_and_encrypts_with_the_first_key():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    stored = TokenCipher.from_config(old, "").encrypt("refresh-token")

    rotated = TokenCipher.from_config(f"{new}, {old}", "")

    assert rotated.decrypt(stored) == "refresh-token"
    fresh = rotated.encrypt("access-token")
    assert TokenCipher.from_config(new, "").decrypt(fresh) == "access-token"
    with pytest.raises(ValueError):
        TokenCipher.from_config(old, "").decrypt(fresh)


def test_a_development_install_keeps_reading_with_its_derived_key_listed_last():
    secret = "the secret this install ran on"
    stored = TokenCipher.from_config("", secret).encrypt("refresh-token")
    keys = f"{Fernet.generate_key().decode()},{derived_key(secret).decode()}"
    assert TokenCipher.from_config(keys, STRONG["SECRET_KEY"]).decrypt(stored) == "refresh-token"


def test_check_config_lists_what_production_refuses_without_starting_it(monkeypatch, tmp_root):
    # As an operator types it: the flask command, the app named, settings in the environment.
    env = {
        "ENV": "Production",
        "SECRET_KEY": "a",
        "TOKEN_ENCRYPTION_KEY": "notakey",
        "PUBLIC_BASE_URL": "http://collect.example.com",
        "INSTANCE_PATH": str(tmp_root / "instance"),
    }
    result = CliRunner().invoke(
        flask_cli, ["--app", "collector", "check-config", "--offline"], env=env
    )

    assert result.exit_code == 1
    assert "SECRET_KEY is 1 characters long" in result.output
    assert "TOKEN_ENCRYPTION_KEY (key 1 of 1) is not a Fernet key" in result.output
    assert "PUBLIC_BASE_URL (http://collect.example.com) must be" in result.output


def test_check_config_passes_strong_production_settings(tmp_root):
    env = {**STRONG, "ENV": "production", "INSTANCE_PATH": str(tmp_root / "instance")}
    result = CliRunner().invoke(
        flask_cli, ["--app", "collector", "check-config", "--offline"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "looks right" in result.output
