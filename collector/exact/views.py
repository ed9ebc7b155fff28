"""Integrations › Exact Online: connect on a country's host, the administration, the settings,
a manual run and the sync history."""

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from collector.core.errors import Invalid
from collector.exact import COUNTRIES, ExactError, overview
from collector.exact import connection as ex
from collector.exact import jobs as exact_jobs
from collector.exact import settings as exact_settings
from collector.exact import setup as exact_setup
from collector.exact.errors import DailyLimitReached
from collector.exact.forms import (
    COUNTRY_NAMES,
    ExactConnectForm,
    ExactDivisionForm,
    ExactSettingsForm,
)
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from collector.runtime.forms import ConfirmForm
from collector.runtime.oauth_views import OAuthFlow
from collector.runtime.views import admin_required, content_security_policy, protect, saved
from collector.teamleader import TeamleaderError
from collector.teamleader import connection as teamleader_connection
from collector.teamleader import setup as teamleader_setup
from collector.teamleader.models import ConnectionStatus

bp = protect(Blueprint("exact", __name__, url_prefix="/integrations/exact"))

FLOW = OAuthFlow("Exact Online", "exact_oauth_state")


@bp.get("")
def index():
    return _page()


def _page(status: int = 200, **forms):
    """The page; forms not given are filled from the stored connection."""
    connection = ex.current_exact()
    teamleader = teamleader_connection.current_connection()
    connect_form = forms.pop("connect_form", None) or ExactConnectForm(formdata=None)
    if connection is not None:
        connect_form.country.data = connection.country
        if "division_form" not in forms:
            forms["division_form"] = ExactDivisionForm(formdata=None)
            forms["division_form"].load(connection)
        forms["division_form"].offer(connection)
        if "settings_form" not in forms:
            forms["settings_form"] = ExactSettingsForm.for_connection(
                connection, teamleader, formdata=None
            )
            forms["settings_form"].load(connection)
    html = render_template(
        "exact/integration.html",
        connection=connection,
        teamleader=teamleader,
        connect_form=connect_form,
        confirm=ConfirmForm(),
        statuses=ConnectionStatus,
        countries=COUNTRY_NAMES,
        triggers=overview.TRIGGERS,
        runs=overview.recent_runs(),
        failing=overview.failing_bookings(),
        daily_limit=overview.daily_limit_notice(
            exact_setup.daily_limit_reset(current_app, connection)
        ),
        **forms,
    )
    response = make_response(html, status)
    # The Connect form's POST redirects to the chosen country's host: allow them all.
    response.headers["Content-Security-Policy"] = content_security_policy(
        form_targets=" ".join(sorted(_exact_origins()))
    )
    return response


def _exact_origins() -> set[str]:
    return {_origin(exact_setup.host(current_app, country)) for country in COUNTRIES}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _back():
    return redirect(url_for("exact.index"))


@bp.post("/connect")
def connect():
    form = ExactConnectForm()
    if not form.validate_on_submit():
        flash(_("Choose the country of your Exact Online, or the form expired."), "error")
        return _back()
    country = form.country.data
    oauth = exact_setup.oauth(current_app, exact_setup.host(current_app, country))
    return FLOW.start(oauth, country=country)


@bp.get("/callback")
@admin_required
def callback():
    return FLOW.finish(_complete_connect, _connected_message, url_for("exact.index"))


def _complete_connect(started: dict, code: str):
    """Store the connection on the host of the country chosen when Connect was pressed."""
    country = started["country"]
    host = exact_setup.host(current_app, country)
    return ex.complete_connect(
        exact_setup.oauth(current_app, host),
        exact_setup.client_factory(current_app),
        runtime_setup.cipher(current_app),
        code,
        current_user,
        country=country,
        host=host,
    )


def _connected_message(connection) -> str:
    return _(
        "Connected to Exact Online (%(country)s) as %(user)s. Choose the administration next.",
        country=COUNTRY_NAMES.get(connection.country, connection.country),
        user=connection.user_name,
    )


@bp.post("/division")
def division():
    connection = _connected()
    if connection is None:
        return _back()
    form = ExactDivisionForm()
    form.offer(connection)
    if not form.validate_on_submit():
        return _page(400, division_form=form)
    chosen = form.division.data
    exact = exact_setup.client_factory(current_app)(
        exact_setup.token_source(current_app, connection), connection.host, chosen
    )
    if _read_lists(form, lambda: exact_settings.choose_division(connection, chosen, exact, _tl())):
        flash(
            _(
                "Administration %(name)s chosen; its lists were read.",
                name=connection.division_name,
            ),
            "success",
        )
        return _back()
    return _page(400, division_form=form)


@bp.post("/refresh")
def refresh():
    connection = _connected()
    if connection is None or not _confirmed():
        return _back()
    if not connection.division:
        flash(_("Choose the administration first."), "error")
        return _back()
    exact = exact_setup.client(current_app, connection)
    if _read_lists(None, lambda: exact_settings.read_choices(connection, exact, _tl())):
        flash(_("The lists were read again from Exact Online and Teamleader."), "success")
    return _back()


def _read_lists(form, read) -> bool:
    """Run ``read``; a refusal goes on ``form`` (or is flashed), nothing is stored."""
    try:
        read()
    except Invalid as exc:
        db.session.rollback()
        for name, messages in exc.errors.items():
            if form is not None and name in form:
                form[name].errors = list(form[name].errors) + messages
            else:
                flash(" ".join(messages), "error")
        return False
    except (ExactError, TeamleaderError) as exc:
        db.session.rollback()
        # The daily limit in the reader's words; any other error as Exact or Teamleader said it.
        if isinstance(exc, DailyLimitReached):
            said = overview.daily_limit_notice(exc.reset_at)
        else:
            said = str(exc)
        flash(_("Reading the lists failed: %(error)s", error=said), "error")
        return False
    return True


@bp.post("/settings")
def settings():
    connection = _connected()
    if connection is None:
        return _back()
    teamleader = teamleader_connection.current_connection()
    form = ExactSettingsForm.for_connection(connection, teamleader)
    if form.validate_on_submit() and saved(
        form, lambda data: exact_settings.save_settings(connection, data, teamleader)
    ):
        flash(_("Exact Online settings saved; documents are forwarded from now on."), "success")
        return _back()
    return _page(400, settings_form=form)


@bp.post("/run")
def run():
    if _connected() is None or not _confirmed():
        return _back()
    current_app.extensions["jobs"].enqueue(exact_jobs.forward_to_exact, "manual", user=current_user)
    flash(_("Forwarding to Exact Online started; the history below shows the run."), "success")
    return _back()


@bp.post("/disconnect")
def disconnect():
    connection = ex.current_exact()
    if connection is None or not ConfirmForm().validate_on_submit():
        flash(_("Nothing to disconnect, or the form expired."), "error")
        return _back()
    ex.disconnect(connection)
    flash(_("Exact Online is disconnected; its tokens are deleted."), "success")
    return _back()


def _connected():
    """The connection if it may be used, else None with the reason flashed."""
    connection = ex.current_exact()
    if connection is None or connection.status != ConnectionStatus.CONNECTED:
        flash(_("Connect Exact Online first."), "error")
        return None
    return connection


def _confirmed() -> bool:
    """A button's CSRF token checks out; else the reason is flashed."""
    if ConfirmForm().validate_on_submit():
        return True
    flash(_("The form expired; please try again."), "error")
    return False


def _tl():
    """A Teamleader client when Teamleader is connected: it lends its VAT rates."""
    connection = teamleader_connection.current_connection()
    if connection is None or connection.status != ConnectionStatus.CONNECTED:
        return None
    return teamleader_setup.client(current_app, connection)


BLUEPRINTS = (bp,)
