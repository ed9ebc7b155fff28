"""Settings › Company entities: each Teamleader department and the creditor it collects as
(its own, or the company default), edited with the creditor's form and checks."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from collector.accounts import creditor, entities
from collector.accounts.forms import CreditorForm, LogoForm
from collector.core.errors import NotFound
from collector.runtime.forms import ConfirmForm
from collector.runtime.views import confirmed, protect, saved
from collector.teamleader.connection import department_names

bp = protect(Blueprint("entities", __name__, url_prefix="/settings/entities"))


@bp.get("/")
def index():
    found = entities.listing(department_names())
    return render_template("teamleader/entities/index.html", entities=found)


@bp.route("/<department_id>", methods=["GET", "POST"])
def edit(department_id: str):
    entity = _entity(department_id)
    form = CreditorForm()
    if not form.is_submitted() and entity.creditor is not None:
        form.load(entity.creditor)

    def save(data: dict):
        return creditor.update(**data, department_id=entity.department_id)

    if form.validate_on_submit() and saved(form, save):
        flash(_("The creditor of %(entity)s is saved.", entity=entity.name), "success")
        return redirect(url_for("entities.edit", department_id=department_id))
    status = 400 if form.errors else 200
    page = render_template(
        "teamleader/entities/edit.html",
        entity=entity,
        form=form,
        logo_form=LogoForm(),
        confirm=ConfirmForm(),
    )
    return page, status


@bp.post("/<department_id>/default")
def use_default(department_id: str):
    entity = _entity(department_id)
    if confirmed() and entities.use_default(entity.department_id):
        flash(_("%(entity)s collects as the company default again.", entity=entity.name), "success")
    return redirect(url_for("entities.edit", department_id=department_id))


def _entity(department_id: str) -> entities.Entity:
    try:
        return entities.find(department_id, department_names())
    except NotFound:
        abort(404, _("There is no such company entity."))
