"""Integrations › Teamleader: connect, disconnect and the integration settings."""

import hmac
import secrets
import time

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from collector import clients
from collector.documents import profiles
from collector.extensions import db
from collector.runtime.forms import ConfirmForm
from collector.runtime.views import admin_required, protect, saved
from collector.teamleader import connection as tl
from collector.teamleader.forms import TeamleaderSettingsForm
from collector.teamleader.models import ConnectionStatus

bp = protect(Blueprint("integrations", __name__, url_prefix="/integrations"))

STATE_KEY = "teamleader_oauth_state"
STATE_TTL = 600  # seconds; Teamleader's authorization codes live 10 minutes too


@bp.get("/teamleader")
def teamleader():
    connection = tl.current_connection()
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
        flash("The form expired; please try again.", "error")
        return redirect(url_for("integrations.teamleader"))
    state = secrets.token_urlsafe(32)
    session[STATE_KEY] = {"value": state, "at": time.time()}
    return redirect(clients.teamleader_oauth(current_app).authorize_url(state))


@bp.get("/teamleader/callback")
@admin_required
def teamleader_callback():
    expected = session.pop(STATE_KEY, None)
    problem = _callback_problem(expected, request.args)
    if problem:
        flash(problem, "error")
        return redirect(url_for("integrations.teamleader"))
    try:
        connection = tl.complete_connect(
            clients.teamleader_oauth(current_app),
            clients.teamleader_client_factory(current_app),
            clients.cipher(current_app),
            request.args["code"],
            current_user,
            current_app.config["PUBLIC_BASE_URL"],
        )
    except tl.ConnectFailed as exc:
        db.session.rollback()
        flash(f"{exc} Nothing was connected.", "error")
        return redirect(url_for("integrations.teamleader"))
    flash(f"Connected to Teamleader account {connection.account_id}.", "success")
    return redirect(url_for("integrations.teamleader"))


def _callback_problem(expected: dict | None, args) -> str | None:
    """Why this callback must not be trusted, or None."""
    state = args.get("state", "")
    if not expected or time.time() - expected.get("at", 0) > STATE_TTL:
        return "This Teamleader authorization was not started here or has expired; start again."
    if not hmac.compare_digest(state.encode(), expected["value"].encode()):
        return "The Teamleader authorization did not match this session; start again."
    if args.get("error"):
        if args["error"] == "access_denied":
            return "Access was denied in Teamleader; nothing was connected."
        return f"Teamleader refused the authorization ({args['error'][:100]})."
    if not args.get("code"):
        return "Teamleader sent no authorization code; start again."
    return None


@bp.post("/teamleader/disconnect")
def teamleader_disconnect():
    connection = tl.current_connection()
    if connection is None or not ConfirmForm().validate_on_submit():
        flash("Nothing to disconnect, or the form expired.", "error")
        return redirect(url_for("integrations.teamleader"))
    client = None
    if connection.status == ConnectionStatus.CONNECTED:
        client = clients.teamleader_client(current_app, connection)
    tl.disconnect(connection, client)
    flash("Teamleader is disconnected; its tokens are deleted.", "success")
    return redirect(url_for("integrations.teamleader"))


@bp.post("/teamleader/settings")
def teamleader_settings():
    connection = tl.current_connection()
    if connection is None:
        flash("Connect Teamleader first.", "error")
        return redirect(url_for("integrations.teamleader"))
    form = TeamleaderSettingsForm()
    form.offer(connection, profiles.list_profiles())
    if form.validate_on_submit() and saved(form, lambda d: tl.update_settings(connection, d)):
        flash("Teamleader settings saved.", "success")
        return redirect(url_for("integrations.teamleader"))
    return _page(connection, form, 400)
