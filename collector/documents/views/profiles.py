"""Payment profiles: list, create, edit, delete."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from collector.core.errors import Conflict
from collector.documents import profiles
from collector.documents.forms import ProfileForm
from collector.documents.models import Profile
from collector.extensions import db
from collector.runtime.forms import ConfirmForm
from collector.runtime.views import admin_required, protect, saved
from collector.runtime.wordings import Wordings
from collector.runtime.wordings import known as _l

bp = protect(Blueprint("profiles", __name__, url_prefix="/profiles"))

# What the profile operations (and the Teamleader settings, on delete) refuse, in English.
REFUSALS = Wordings(
    _l("A name is required."),
    _l("At most %(count)s characters."),
    _l("A profile with this name already exists."),
    _l("Allow at least one way to pay."),
    _l("Only applies when invitations are sent on import."),
    _l("Whole numbers of days only."),
    _l("Days between 1 and %(count)s after the due date."),
    _l(
        "Profile “%(name)s” is used by %(customers)s customer(s) and %(documents)s "
        "document(s); move them to another profile first."
    ),
    _l(
        "Profile “%(name)s” is the default for new customers; choose another default in "
        "the Teamleader settings first."
    ),
)


@bp.get("/")
def index():
    rows = [(p, profiles.profile_usage(p)) for p in profiles.list_profiles()]
    return render_template("documents/profiles/index.html", rows=rows, confirm=ConfirmForm())


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def create():
    form = ProfileForm()
    if not form.is_submitted():
        form.allow_bank_transfer.data = True
    if form.validate_on_submit() and saved(form, REFUSALS.refusals(profiles.create_profile)):
        flash(_("Profile “%(name)s” created.", name=form.name.data), "success")
        return redirect(url_for("profiles.index"))
    return _render_form(form, None)


@bp.route("/<int:profile_id>", methods=["GET", "POST"])
def edit(profile_id: int):
    profile = db.get_or_404(Profile, profile_id)
    form = ProfileForm()
    if not form.is_submitted():
        form.load(profile)
    update = REFUSALS.refusals(lambda d: profiles.update_profile(profile, d))
    if form.validate_on_submit() and saved(form, update):
        flash(_("Profile “%(name)s” saved.", name=profile.name), "success")
        return redirect(url_for("profiles.index"))
    return _render_form(form, profile)


@bp.post("/<int:profile_id>/delete")
def delete(profile_id: int):
    profile = db.get_or_404(Profile, profile_id)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return redirect(url_for("profiles.index"))
    try:
        profiles.delete_profile(profile)
    except Conflict as exc:
        flash(REFUSALS(str(exc)), "error")
        return index(), 409
    flash(_("Profile “%(name)s” deleted.", name=profile.name), "success")
    return redirect(url_for("profiles.index"))


def _render_form(form: ProfileForm, profile: Profile | None):
    status = 400 if form.errors else 200
    return render_template("documents/profiles/form.html", form=form, profile=profile), status
