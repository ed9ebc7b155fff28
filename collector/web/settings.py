"""Settings: who is paid (the creditor's name and bank account)."""

from flask import Blueprint, flash, redirect, render_template, url_for

from collector.services import creditor
from collector.web import protect, saved
from collector.web.forms import CreditorForm

bp = protect(Blueprint("settings", __name__, url_prefix="/settings"))


@bp.route("/creditor", methods=["GET", "POST"])
def creditor_settings():
    form = CreditorForm()
    if not form.is_submitted():
        form.load(creditor.current())
    if form.validate_on_submit() and saved(form, lambda data: creditor.update(**data)):
        flash("Creditor details saved.", "success")
        return redirect(url_for("settings.creditor_settings"))
    status = 400 if form.errors else 200
    return render_template("settings/creditor.html", form=form), status
