"""Settings: who is paid (the creditor's name and bank account), the company's time zone."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from collector.accounts import company, creditor
from collector.accounts.forms import CompanyForm, CreditorForm
from collector.core import clock
from collector.runtime.views import protect, saved

bp = protect(Blueprint("settings", __name__, url_prefix="/settings"))


@bp.route("/creditor", methods=["GET", "POST"])
def creditor_settings():
    form = CreditorForm()
    if not form.is_submitted():
        form.load(creditor.current())
    if form.validate_on_submit() and saved(form, lambda data: creditor.update(**data)):
        flash(_("Creditor details saved."), "success")
        return redirect(url_for("settings.creditor_settings"))
    status = 400 if form.errors else 200
    return render_template("accounts/settings/creditor.html", form=form), status


@bp.route("/company", methods=["GET", "POST"])
def company_settings():
    form = CompanyForm()
    row = company.current()
    if not form.is_submitted():
        form.load(row)
    if form.validate_on_submit() and saved(form, lambda data: company.set_time_zone(**data)):
        flash(_("Time zone saved."), "success")
        return redirect(url_for("settings.company_settings"))
    status = 400 if form.errors else 200
    local_now = clock.local(clock.now())
    return render_template(
        "accounts/settings/company.html", form=form, company=row, now=local_now
    ), status
