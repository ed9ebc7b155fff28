"""The people who log in, managed by admins (Settings › Users): the list, inviting one,
changing a role, deactivating and reactivating, sending a link to reset a password.
Viewers cannot open these pages at all."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from collector.accounts import setup as accounts_setup
from collector.accounts import user_admin
from collector.accounts.forms import InviteForm, RoleForm
from collector.accounts.models import User
from collector.accounts.user_admin import LinkSent
from collector.core import clock
from collector.core.errors import Conflict
from collector.runtime.forms import ConfirmForm
from collector.runtime.views import confirmed_change, form_change, or_404, protect

bp = protect(Blueprint("users", __name__, url_prefix="/settings/users"))


@bp.before_request
def _admins_only():
    if not current_user.is_admin:
        abort(403, _("Only admins manage users."))


@bp.get("/")
def index():
    return render_template(
        "accounts/users/index.html", users=user_admin.all_users(), confirm=ConfirmForm()
    )


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = InviteForm()

    def save(data: dict) -> None:
        _tell(user_admin.invite(**data, **_link_settings()))

    def page(status: int, form: InviteForm = form):
        return render_template("accounts/users/new.html", form=form), status

    if not form.is_submitted():
        form.locale.data = str(get_locale() or "en")
        return page(200)
    return form_change(form, save, lambda: redirect(url_for("users.index")), page)


@bp.route("/<int:user_id>", methods=["GET", "POST"])
def edit(user_id: int):
    user = or_404(user_admin.get, user_id)
    form = RoleForm()
    if not form.is_submitted():
        return _edit_page(user, None, 200)

    def done():
        flash(_("%(email)s is now %(role)s.", email=user.email, role=_role(user)), "success")
        return redirect(url_for("users.edit", user_id=user.id))

    def page(status: int, form: RoleForm = form):
        return _edit_page(user, form, status)

    return form_change(form, lambda data: user_admin.change_role(user, **data), done, page)


@bp.post("/<int:user_id>/deactivate")
def deactivate(user_id: int):
    user = or_404(user_admin.get, user_id)

    def change() -> str:
        user_admin.deactivate(user, now=clock.now())
        return _("%(email)s can no longer log in; their sessions have ended.", email=user.email)

    return confirmed_change(change, _back(user), lambda status: _edit_page(user, None, status))


@bp.post("/<int:user_id>/reactivate")
def reactivate(user_id: int):
    user = or_404(user_admin.get, user_id)

    def change() -> str:
        user_admin.reactivate(user)
        return _("%(email)s can log in again.", email=user.email)

    return confirmed_change(change, _back(user), lambda status: _edit_page(user, None, status))


@bp.post("/<int:user_id>/reset")
def send_reset(user_id: int):
    user = or_404(user_admin.get, user_id)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return redirect(_back(user))
    try:
        _tell(user_admin.send_reset(user, **_link_settings()))
    except Conflict as exc:
        flash(str(exc), "error")
        return _edit_page(user, None, 409)
    return redirect(_back(user))


def _link_settings() -> dict:
    return {
        "link_base": accounts_setup.link_base(current_app),
        "now": clock.now(),
        "lifetime": accounts_setup.link_lifetime(current_app),
    }


def _tell(sent: LinkSent) -> None:
    """Say where the link went; when it could not go by mail, hand it to the admin."""
    mailed = sent.delivered and bool(current_app.config["MAIL_HOST"])  # not the demo's sink
    if mailed:
        message = _("A link to choose a password was mailed to %(email)s.", email=sent.user.email)
        flash(message, "success")
        return
    flash(
        _(
            "No mail went out to %(email)s (no mail server, or it refused). Give them this "
            "one-time link yourself: %(link)s",
            email=sent.user.email,
            link=sent.url,
        ),
        "warning",
    )


def _role(user: User) -> str:
    return _("admin") if user.is_admin else _("viewer")


def _back(user: User) -> str:
    return url_for("users.edit", user_id=user.id)


def _edit_page(user: User, form: RoleForm | None, status: int):
    if form is None:
        form = RoleForm()
        form.role.data = user.role.value
    page = render_template("accounts/users/edit.html", user=user, form=form, confirm=ConfirmForm())
    return page, status
