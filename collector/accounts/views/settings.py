"""Settings: who is paid (the company default creditor: name, bank account, how it shows
itself to customers, its logo), the company's time zone. Each company entity's own
creditor is edited on the entities page (``teamleader.views.entities``) with the same form."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from collector.accounts import company, creditor, creditor_details, entities
from collector.accounts.forms import CompanyForm, CreditorForm, LogoForm
from collector.accounts.models import Creditor
from collector.core import clock
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from collector.runtime.forms import ConfirmForm
from collector.runtime.views import confirmed, protect, saved

bp = protect(Blueprint("settings", __name__, url_prefix="/settings"))


@bp.route("/creditor", methods=["GET", "POST"])
def creditor_settings():
    form = CreditorForm()
    row = creditor.current()
    if not form.is_submitted():
        form.load(row)
    if form.validate_on_submit() and saved(form, lambda data: creditor.update(**data)):
        flash(_("Creditor details saved."), "success")
        return redirect(url_for("settings.creditor_settings"))
    status = 400 if form.errors else 200
    return render_template(
        "accounts/settings/creditor.html", form=form, payee=row, logo_form=LogoForm()
    ), status


@bp.post("/creditor/<int:creditor_id>/logo")
def upload_logo(creditor_id: int):
    payee = db.get_or_404(Creditor, creditor_id)
    form = LogoForm()
    if not form.validate_on_submit():
        for message in form.logo.errors or [_("The form expired; please try again.")]:
            flash(str(message), "error")
        return redirect(_page_of(payee))
    content = form.logo.data.read(creditor_details.MAX_LOGO + 1)
    try:
        entities.set_logo(payee, content, runtime_setup.document_store(current_app))
    except creditor_details.LogoRefused as exc:
        flash(str(exc), "error")
    else:
        flash(_("Logo saved."), "success")
    return redirect(_page_of(payee))


@bp.post("/creditor/<int:creditor_id>/logo/remove")
def remove_logo(creditor_id: int):
    payee = db.get_or_404(Creditor, creditor_id)
    if confirmed(ConfirmForm()):
        entities.remove_logo(payee)
        flash(_("Logo removed."), "success")
    return redirect(_page_of(payee))


@bp.get("/creditor/<int:creditor_id>/logo")
def logo(creditor_id: int):
    found = entities.logo(
        db.get_or_404(Creditor, creditor_id), runtime_setup.document_store(current_app)
    )
    if found is None:
        abort(404)
    content, media_type = found
    response = current_app.response_class(content, mimetype=media_type)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _page_of(payee: Creditor) -> str:
    if payee.department_id is None:
        return url_for("settings.creditor_settings")
    return url_for("entities.edit", department_id=payee.department_id)


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
