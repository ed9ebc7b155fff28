"""``flask --app collector <command>``: accounts, demo data and the demo server."""

import secrets
from pathlib import Path

import click
from flask import Flask, current_app

from collector.extensions import db
from collector.models import Profile, User
from collector.services import accounts, profiles
from collector.services.errors import Invalid

DEMO_EMAIL = "admin@demo.local"


def register_commands(app: Flask) -> None:
    app.cli.add_command(create_user)
    app.cli.add_command(create_api_key)
    app.cli.add_command(demo_setup)
    app.cli.add_command(serve)


def _fail(exc: Invalid) -> None:
    details = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items())
    raise click.ClickException(details or str(exc))


@click.command("create-user")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", type=click.Choice(["admin", "viewer"]), default="viewer", show_default=True)
def create_user(email: str, password: str, role: str) -> None:
    """Create a user who can log in to the UI."""
    try:
        user = accounts.create_user(email, password, role)
    except Invalid as exc:
        _fail(exc)
    click.echo(f"Created {user.role.value} {user.email}")


@click.command("create-api-key")
@click.argument("name")
def create_api_key(name: str) -> None:
    """Create an API key and print it (it is shown only this once)."""
    try:
        _key, plain = accounts.create_api_key(name)
    except Invalid as exc:
        _fail(exc)
    click.echo(plain)


DEMO_PROFILES = (
    {
        "name": "Direct debit",
        "allow_direct_debit": True,
        "allow_bank_transfer": True,
        "send_invitation_on_import": True,
        "invitation_requires_pdf": True,
        "reminder_days": [7, 21],
    },
    {
        "name": "Payment link",
        "allow_payment_link": True,
        "allow_bank_transfer": True,
        "send_invitation_on_import": True,
        "reminder_days": [7, 21],
    },
    {"name": "Bank transfer", "allow_bank_transfer": True, "reminder_days": [14]},
)


@click.command("demo-setup")
def demo_setup() -> None:
    """Create the demo admin (once) and the demo profiles; print the login.

    Demo only: the generated password is kept in the instance folder (mode 600)
    so ``make run`` can print it again on every start.
    """
    login_file = Path(current_app.instance_path) / "demo-login.txt"
    user = db.session.execute(db.select(User).filter_by(email=DEMO_EMAIL)).scalar_one_or_none()
    if user is None or not login_file.exists():
        password = secrets.token_urlsafe(9)
        if user is None:
            user = accounts.create_user(DEMO_EMAIL, password, "admin")
        user.set_password(password)
        db.session.commit()
        login_file.write_text(f"{DEMO_EMAIL} / {password}\n")
        login_file.chmod(0o600)
    for data in DEMO_PROFILES:
        if not db.session.execute(db.select(Profile).filter_by(name=data["name"])).first():
            profiles.create_profile(data)
    click.echo(f"Demo login: {login_file.read_text().strip()}")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--sandbox-port", type=int, default=None, help="also run the sandbox emulators")
def serve(host: str, port: int, sandbox_port: int | None) -> None:
    """Run the demo: web app, plus an rq worker and rq cron when Redis answers,
    else jobs and the schedule in-process."""
    from collector.devserver import run

    run(current_app._get_current_object(), host, port, sandbox_port)
