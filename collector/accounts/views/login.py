"""Log in and out."""

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from collector.accounts import languages, users
from collector.accounts.forms import LoginForm
from collector.runtime.forms import ConfirmForm

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = users.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(_("Unknown email or wrong password."))
        else:
            picked = session.get("locale")
            session.clear()  # a fresh session on every login (no fixation)
            if picked:
                session["locale"] = picked  # the language chosen on the login page stays
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
    status = 400 if form.errors else 200
    return render_template("accounts/auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    if ConfirmForm().validate_on_submit():
        logout_user()
        session.clear()
        flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language():
    """Pick the UI's language: kept on the user (and in the session, for the login page)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    tag = request.form.get("locale", "")
    if tag and languages.normalize(tag) != tag:
        abort(400, description=_("Unknown language."))
    if tag:
        session["locale"] = tag
    else:
        session.pop("locale", None)
    if current_user.is_authenticated:
        users.set_locale(current_user, tag)
    return redirect(_safe_next(request.form.get("next")))


def _safe_next(target: str | None) -> str:
    """Only follow a ``next`` that stays on this site."""
    if target:
        parts = urlsplit(target)
        local = target.startswith("/") and not target.startswith(("//", "/\\"))
        if not parts.scheme and not parts.netloc and local:
            return target
    return url_for("home.index")
