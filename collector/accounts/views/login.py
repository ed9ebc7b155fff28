"""Log in and out; the check every request makes that its session still stands."""

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user

from collector.accounts import languages, logins, sessions, users
from collector.accounts import setup as accounts_setup
from collector.accounts.forms import LoginForm
from collector.accounts.models import User
from collector.core import clock
from collector.extensions import db
from collector.runtime.forms import ConfirmForm

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        attempt = logins.log_in(
            form.email.data,
            form.password.data,
            address=request.remote_addr,
            throttle=accounts_setup.login_throttle(current_app),
            now=clock.now(),
        )
        if attempt.user is not None:
            _begin_session(attempt.user)
            return redirect(_safe_next(request.args.get("next")))
        if attempt.wait is not None:
            form.password.errors.append(too_many(attempt.wait))
            status = 429
        else:
            form.password.errors.append(_("Unknown email or wrong password."))
    if status == 200 and form.errors:
        status = 400
    return render_template("accounts/auth/login.html", form=form), status


def too_many(wait) -> str:
    """ "Too many attempts; try again in N minutes", rounded up."""
    minutes = logins.minutes(wait)
    return ngettext(
        "Too many attempts; try again in %(num)d minute.",
        "Too many attempts; try again in %(num)d minutes.",
        minutes,
    )


def _begin_session(user: User) -> None:
    picked = session.get("locale")
    session.clear()  # a fresh session on every login (no fixation)
    if picked:
        session["locale"] = picked  # the language chosen on the login page stays
    login_user(user)
    sessions.begin(session, user, clock.now())


@bp.post("/logout")
@login_required
def logout():
    if ConfirmForm().validate_on_submit():
        logins.log_out(current_user._get_current_object())
        logout_user()
        _end_session()
        flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


def _end_session() -> None:
    picked = session.get("locale")
    session.clear()
    if picked:
        session["locale"] = picked


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the session's user, if the session still stands (same
    generation, not idle or old past its lifetimes) and the user is active."""
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    limits = accounts_setup.lifetimes(current_app)
    if (
        user is None
        or not user.active
        or not sessions.still_valid(session, user, clock.now(), limits)
    ):
        _end_session()
        return None
    return user


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
