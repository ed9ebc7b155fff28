"""Passwords: "forgot your password?" on the login page, the page a one-time link opens to
choose one, and a person changing their own from their settings."""

from collections.abc import Callable

from flask import (
    Blueprint,
    after_this_request,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from collector.accounts import password_links, sessions, user_admin
from collector.accounts import setup as accounts_setup
from collector.accounts.forms import ChangePasswordForm, ForgotPasswordForm, NewPasswordForm
from collector.accounts.passwords import MIN_PASSWORD
from collector.accounts.views.login import too_many
from collector.core import clock
from collector.core.errors import Invalid, NotFound
from collector.runtime.views import saved

bp = Blueprint("password", __name__)


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot():
    form = ForgotPasswordForm()
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        throttle, now = accounts_setup.login_throttle(current_app), clock.now()
        wait = throttle.wait("", request.remote_addr, now)
        if wait is not None:
            form.email.errors.append(too_many(wait))
            status = 429
        else:
            throttle.address_used(request.remote_addr, now)
            deliver = user_admin.request_reset(
                form.email.data,
                link_base=accounts_setup.link_base(current_app),
                now=now,
                lifetime=accounts_setup.link_lifetime(current_app),
            )
            if deliver is not None:
                _after_the_answer(deliver)
            # The same words whether the address has an account or not.
            flash(
                _(
                    "If this address has a login, a link to choose a new password is on "
                    "its way. It works once, for a limited time."
                ),
                "info",
            )
            return redirect(url_for("auth.login"))
    return render_template("accounts/auth/forgot.html", form=form), status


def _after_the_answer(work: Callable[[], object]) -> None:
    """Do ``work`` once the answer has been sent (in its own app context): the answer to a
    known address then takes no longer than to an unknown one."""
    app = current_app._get_current_object()

    @after_this_request
    def _later(response):
        def run() -> None:
            with app.app_context():
                work()

        response.call_on_close(run)
        return response


@bp.route("/password/new/<token>", methods=["GET", "POST"])
def choose(token: str):
    link = password_links.find(token, clock.now())
    if link is None:
        page = render_template("accounts/auth/link_expired.html")
        return page, 404, _private()
    form = NewPasswordForm()
    if form.validate_on_submit() and saved(form, lambda data: _use(token, data)):
        flash(_("Your password is saved. Log in with it."), "success")
        return redirect(url_for("auth.login"))
    status = 400 if form.errors else 200
    page = render_template(
        "accounts/auth/choose.html", form=form, link=link, min_password=MIN_PASSWORD
    )
    return page, status, _private()


def _use(token: str, data: dict) -> None:
    try:
        password_links.use(token, data["password"], data["repeated"], now=clock.now())
    except NotFound as exc:  # used or expired while the page stood open
        raise Invalid({"password": [str(exc)]}) from exc


def _private() -> dict:
    # The token is in the address: keep the page out of caches and referrers.
    return {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@bp.route("/settings/password", methods=["GET", "POST"])
@login_required
def change():
    form = ChangePasswordForm()
    throttle, now = accounts_setup.login_throttle(current_app), clock.now()
    user = current_user._get_current_object()
    status = 200
    if form.validate_on_submit():
        wait = throttle.wait(user.email, request.remote_addr, now)
        if wait is not None:
            form.current.errors.append(too_many(wait))
            status = 429
        elif saved(form, lambda data: user_admin.change_own_password(user, **data)):
            sessions.renew_generation(session, user)
            flash(_("Your password is changed. Your other sessions have ended."), "success")
            return redirect(url_for("password.change"))
        elif form.current.errors:
            # A wrong current password counts as a failed login: a session left open is
            # no way around the throttle.
            throttle.failed(user.email, request.remote_addr, now)
    if status == 200 and form.errors:
        status = 400
    page = render_template("accounts/settings/password.html", form=form, min_password=MIN_PASSWORD)
    return page, status
