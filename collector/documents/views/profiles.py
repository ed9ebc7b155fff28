"""Payment profiles: list, create, edit, delete."""

from flask import Blueprint, flash, redirect, render_template, url_for

from collector.core.errors import Conflict
from collector.documents import profiles
from collector.documents.forms import ProfileForm
from collector.documents.models import Profile
from collector.extensions import db
from collector.runtime.forms import ConfirmForm
from collector.runtime.views import admin_required, protect, saved

bp = protect(Blueprint("profiles", __name__, url_prefix="/profiles"))


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
    if form.validate_on_submit() and saved(form, profiles.create_profile):
        flash(f"Profile “{form.name.data}” created.", "success")
        return redirect(url_for("profiles.index"))
    return _render_form(form, None)


@bp.route("/<int:profile_id>", methods=["GET", "POST"])
def edit(profile_id: int):
    profile = db.get_or_404(Profile, profile_id)
    form = ProfileForm()
    if not form.is_submitted():
        form.load(profile)
    if form.validate_on_submit() and saved(form, lambda d: profiles.update_profile(profile, d)):
        flash(f"Profile “{profile.name}” saved.", "success")
        return redirect(url_for("profiles.index"))
    return _render_form(form, profile)


@bp.post("/<int:profile_id>/delete")
def delete(profile_id: int):
    profile = db.get_or_404(Profile, profile_id)
    if not ConfirmForm().validate_on_submit():
        flash("The form expired; please try again.", "error")
        return redirect(url_for("profiles.index"))
    try:
        profiles.delete_profile(profile)
    except Conflict as exc:
        flash(str(exc), "error")
        return index(), 409
    flash(f"Profile “{profile.name}” deleted.", "success")
    return redirect(url_for("profiles.index"))


def _render_form(form: ProfileForm, profile: Profile | None):
    status = 400 if form.errors else 200
    return render_template("documents/profiles/form.html", form=form, profile=profile), status
