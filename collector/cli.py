"""``flask --app collector <command>``: accounts, demo data and the demo server."""

import secrets
from datetime import timedelta
from pathlib import Path

import click
from flask import Flask, current_app, has_app_context
from flask.cli import ScriptInfo

from collector import config as config_module
from collector.accounts import api_keys, creditor, users
from collector.accounts.models import User
from collector.accounts.models.api_key import SCOPES
from collector.core import clock
from collector.core.errors import Conflict, Invalid
from collector.core.storage import FolderStore
from collector.core.storage_copy import Copied, copy_documents
from collector.documents import profiles
from collector.documents.models import Profile
from collector.dunning import steps as dunning_steps
from collector.dunning.models import StepKind
from collector.extensions import db
from collector.payments import config_check as payments_config_check
from collector.payments import setup as payments_setup
from collector.runtime import setup as runtime_setup
from collector.teamleader import import_summary, imports
from collector.teamleader import setup as teamleader_setup
from collector.teamleader.connection import current_connection, ensure_connected
from collector.teamleader.importer import Progress
from collector.teamleader.models import ImportSource

DEMO_EMAIL = "admin@demo.local"


def register_commands(app: Flask) -> None:
    app.cli.add_command(create_user)
    app.cli.add_command(create_api_key)
    app.cli.add_command(demo_setup)
    app.cli.add_command(serve)
    app.cli.add_command(import_documents)
    app.cli.add_command(check_config)
    app.cli.add_command(storage)
    app.cli.add_command(doctor)


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
        user = users.create_user(email, password, role)
    except Invalid as exc:
        _fail(exc)
    click.echo(f"Created {user.role.value} {user.email}")


@click.command("create-api-key")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(SCOPES),
    help="What the key may do; repeat for several. Default: every scope.",
)
def create_api_key(name: str, scopes: tuple[str, ...]) -> None:
    """Create an API key and print it (it is shown only this once)."""
    try:
        _key, plain = api_keys.create_api_key(name, scopes or None, actor="cli")
    except Invalid as exc:
        _fail(exc)
    click.echo(plain)


DEMO_IBAN = "BE71 0961 2345 6769"
# The Belgian example identifier (valid check digits), so collection runs can be tried.
DEMO_CREDITOR_IDENTIFIER = "BE69ZZZ050D000000008"
DEMO_PROFILES = (
    {
        "name": "Direct debit",
        "allow_direct_debit": True,
        "allow_bank_transfer": True,
        "send_invitation_on_import": True,
        "invitation_requires_pdf": True,
    },
    {
        "name": "Payment link",
        "allow_payment_link": True,
        "allow_bank_transfer": True,
        "send_invitation_on_import": True,
    },
    {"name": "Bank transfer", "allow_bank_transfer": True},
)
# Each demo profile's dunning schedule: (kind, days after the due date).
DEMO_STEPS = {
    "Direct debit": [(StepKind.REMINDER, 7), (StepKind.REMINDER, 21)],
    "Payment link": [
        (StepKind.REMINDER, 3),
        (StepKind.REMINDER, 14),
        (StepKind.FINAL_NOTICE, 30),
        (StepKind.HAND_OFF, 45),
    ],
    "Bank transfer": [(StepKind.REMINDER, 14)],
}


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
            user = users.create_user(DEMO_EMAIL, password, "admin")
        user.set_password(password)
        db.session.commit()
        login_file.write_text(f"{DEMO_EMAIL} / {password}\n")
        login_file.chmod(0o600)
    for data in DEMO_PROFILES:
        if not db.session.execute(db.select(Profile).filter_by(name=data["name"])).first():
            profile = profiles.create_profile(data)
            dunning_steps.replace_steps(profile, DEMO_STEPS[profile.name])
    if not creditor.current().iban:
        # A valid Belgian test IBAN, so the payment page's bank transfer shows something,
        # and a valid creditor identifier, so direct debits can be collected.
        creditor.update("Demo Company BV", DEMO_IBAN, "", DEMO_CREDITOR_IDENTIFIER)
    click.echo(f"Demo login: {login_file.read_text().strip()}")


@click.command("check-config")
@click.option("--offline", is_flag=True, help="do not call the payment provider or the S3 bucket")
@click.pass_context
def check_config(ctx: click.Context, offline: bool) -> None:
    """Say what in the configuration will make things fail; exit 1 if anything will.

    Also a ``flask.commands`` plugin (pyproject.toml), so it answers when production
    refuses to start the app: then it lists why."""
    try:
        app = current_app._get_current_object() if has_app_context() else _load(ctx)
    except config_module.UnsafeConfiguration as exc:
        _warn(exc.problems)
    with app.app_context():
        found = []
        if app.config["ENV"] == "production":
            found += config_module.production_problems(app.config)
        provider = None if offline else payments_setup.provider(app)
        found += payments_config_check.problems(app.config, provider)
        if not offline and (problem := runtime_setup.storage_problem(app)):
            found.append(problem)
    if found:
        _warn(found)
    click.echo("The configuration looks right.")


@click.command("doctor")
@click.option("--offline", is_flag=True, help="reach neither the mail server nor the upstreams")
@click.pass_context
def doctor(ctx: click.Context, offline: bool) -> None:
    """Every setting missing or unsafe for production and every connection that fails
    (database, migrations, Redis, the schedule, mail, Teamleader, Exact, the payment
    provider); exit 1 if there is any. The same checks as /readyz.

    Also a ``flask.commands`` plugin, so it answers when production refuses to start."""
    from collector import create_app
    from collector.web import health

    refused: list[str] = []
    try:
        app = current_app._get_current_object() if has_app_context() else _load(ctx)
    except config_module.UnsafeConfiguration as exc:
        # Say why production refuses, then check the connections with the same settings.
        refused = exc.problems
        app = create_app({"ENV": "development"})
    with app.app_context():
        settings, checks = health.doctor(app, online=not offline, refused=refused)
        provider = None if offline else payments_setup.provider(app)
        settings += payments_config_check.problems(app.config, provider)
    click.echo("Settings:")
    for problem in settings or ["nothing missing or unsafe"]:
        click.echo(f"  {'problem: ' if settings else ''}{problem}")
    click.echo("Connections and state:")
    for check in checks:
        state = "ok  " if check.ok else "FAIL"
        details = ", ".join(f"{k}={v}" for k, v in check.details.items())
        click.echo(f"  {state} {check.name}: {details}")
    failed = [check.name for check in checks if not check.ok]
    if settings or failed:
        click.echo(f"{len(settings)} setting problem(s), failing: {', '.join(failed) or 'none'}")
        raise click.exceptions.Exit(1)
    click.echo("Ready for production.")


def _load(ctx: click.Context) -> Flask:
    return ctx.ensure_object(ScriptInfo).load_app()


def _warn(problems: list[str]) -> None:
    for problem in problems:
        click.echo(f"warning: {problem}", err=True)
    raise click.exceptions.Exit(1)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--sandbox-port", type=int, default=None, help="also run the sandbox emulators")
def serve(host: str, port: int, sandbox_port: int | None) -> None:
    """Run the demo: web app, plus an rq worker and rq cron when Redis answers,
    else jobs and the schedule in-process."""
    from collector.devserver import run

    run(current_app._get_current_object(), host, port, sandbox_port)


class _EchoProgress(Progress):
    """Progress for a terminal: a line per chunk."""

    def __init__(self) -> None:
        self.done, self.of = 0, 0

    def total(self, total: int) -> None:
        self.of = total

    def advance(self, step: int = 1, **counts: int) -> None:
        self.done += step
        click.echo(f"  {self.done}/{self.of} documents", err=True)

    def say(self, message: str) -> None:
        if message:
            click.echo(message, err=True)


@click.command("import-documents")
@click.option("--days", type=int, default=30, show_default=True, help="the last N days")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="first day")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="last day, included")
@click.option(
    "--mail-old",
    is_flag=True,
    help="also mail documents overdue or dated before the hold age (otherwise held)",
)
def import_documents(days: int, date_from, date_to, mail_old: bool) -> None:
    """Import booked invoices and credit notes from Teamleader; wait and print the summary."""
    today = clock.local_today()
    first = date_from.date() if date_from else today - timedelta(days=days)
    last = date_to.date() if date_to else today
    try:
        connection = ensure_connected(current_connection())
        imp = imports.create_import(
            ImportSource.CLI, date_from=first, date_to=last, mail_old_documents=mail_old
        )
    except (Invalid, Conflict) as exc:
        messages = [m for ms in getattr(exc, "errors", {}).values() for m in ms]
        raise click.ClickException(" ".join(messages) or str(exc)) from exc
    client = teamleader_setup.client(current_app, connection)
    failed = None
    try:
        imports.run_import(client, connection, imp, progress=_EchoProgress())
    except Exception as exc:  # recorded on the import; the summary says why
        failed = exc
    click.echo(import_summary.summary(imp)[1])
    if failed is not None:
        raise SystemExit(1)


@click.group("storage")
def storage() -> None:
    """Where documents are kept (STORAGE, DOCUMENT_STORAGE, S3_*)."""


@storage.command("copy-to-s3")
@click.option(
    "--source",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="the folder store to copy; default: DOCUMENT_STORAGE",
)
def copy_to_s3(source: Path | None) -> None:
    """Copy the folder store's documents into the S3_BUCKET (S3_* settings), skipping
    what is there already: run it before and after switching to STORAGE=s3, and again
    after an interruption. Nothing is deleted. Exit 1 if a file no longer matches its key."""
    app = current_app._get_current_object()
    folder = FolderStore(source or Path(app.config["DOCUMENT_STORAGE"]))
    try:
        settings = runtime_setup.s3_settings(app)
    except ValueError as exc:
        raise click.ClickException(f"{exc}: set the S3_* settings first.") from None
    target = runtime_setup.s3_store(app, settings)
    click.echo(f"Copying {folder.root} to s3://{settings.bucket}/{settings.folder}", err=True)

    def progress(done: Copied) -> None:
        if done.seen % 1000 == 0:
            click.echo(f"  {done.seen} documents", err=True)

    done = copy_documents(folder, target, progress)
    for key in done.damaged:
        click.echo(f"damaged (content does not match its name, not copied): {key}", err=True)
    click.echo(f"{done.copied} copied, {done.present} already there, {len(done.damaged)} damaged")
    if done.damaged:
        raise click.exceptions.Exit(1)
