"""Integrations › Teamleader: connect, disconnect and the integration settings."""

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from collector.documents import profiles
from collector.runtime import setup as runtime_setup
from collector.runtime.forms import ConfirmForm
from collector.runtime.oauth_views import OAuthFlow
from collector.runtime.views import admin_required, protect, saved
from collector.runtime.wordings import Wordings
from collector.runtime.wordings import known as _l
from collector.teamleader import connection as teamleader_connection
from collector.teamleader import setup as teamleader_setup
from collector.teamleader.forms import TeamleaderSettingsForm
from collector.teamleader.models import ConnectionStatus

bp = protect(Blueprint("integrations", __name__, url_prefix="/integrations"))

FLOW = OAuthFlow("Teamleader", "teamleader_oauth_state")
# What saving the settings refuses, in English.
REFUSALS = Wordings(
    _l("Choose departments of the connected account."),
    _l("Choose at least one department to import."),
    _l("Choose an existing profile."),
    _l("Choose a custom field of the invoice context."),
    _l("Choose a custom field of the subscription context."),
    _l("Choose an active payment method of the account."),
    _l("Automatic import needs a default profile."),
    _l("Give a number of days from 0 to 365."),
)


@bp.get("/teamleader")
def teamleader():
    connection = teamleader_connection.current_connection()
    form = TeamleaderSettingsForm()
    if connection is not None:
        form.offer(connection, profiles.list_profiles())
        form.load(connection)
    return _page(connection, form)


def _page(connection, form, status=200):
    return (
        render_template(
            "teamleader/integration.html",
            connection=connection,
            form=form,
            confirm=ConfirmForm(),
            statuses=ConnectionStatus,
        ),
        status,
    )


@bp.post("/teamleader/connect")
def teamleader_connect():
    if not ConfirmForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return redirect(url_for("integrations.teamleader"))
    return FLOW.start(teamleader_setup.oauth(current_app))


@bp.get("/teamleader/callback")
@admin_required
def teamleader_callback():
    return FLOW.finish(_complete_connect, _connected_message, url_for("integrations.teamleader"))


def _complete_connect(started: dict, code: str):
    """Store the connection of the account the code was issued for, webhooks registered."""
    return teamleader_connection.complete_connect(
        teamleader_setup.oauth(current_app),
        teamleader_setup.client_factory(current_app),
        runtime_setup.cipher(current_app),
        code,
        current_user,
        current_app.config["PUBLIC_BASE_URL"],
    )


def _connected_message(connection) -> str:
    return _("Connected to Teamleader account %(account)s.", account=connection.account_id)


@bp.post("/teamleader/disconnect")
def teamleader_disconnect():
    connection = teamleader_connection.current_connection()
    if connection is None or not ConfirmForm().validate_on_submit():
        flash(_("Nothing to disconnect, or the form expired."), "error")
        return redirect(url_for("integrations.teamleader"))
    client = None
    if connection.status == ConnectionStatus.CONNECTED:
        client = teamleader_setup.client(current_app, connection)
    teamleader_connection.disconnect(connection, client)
    flash(_("Teamleader is disconnected; its tokens are deleted."), "success")
    return redirect(url_for("integrations.teamleader"))


@bp.post("/teamleader/settings")
def teamleader_settings():
    connection = teamleader_connection.current_connection()
    if connection is None:
        flash(_("Connect Teamleader first."), "error")
        return redirect(url_for("integrations.teamleader"))
    form = TeamleaderSettingsForm()
    form.offer(connection, profiles.list_profiles())
    update = REFUSALS.refusals(lambda d: teamleader_connection.update_settings(connection, d))
    if form.validate_on_submit() and saved(form, update):
        flash(_("Teamleader settings saved."), "success")
        return redirect(url_for("integrations.teamleader"))
    return _page(connection, form, 400)
