"""A profile's dunning steps, and the table of its mail texts (edited in ``mail``)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from collector.core.errors import Invalid
from collector.documents.models import Profile
from collector.dunning import steps as dunning_steps
from collector.dunning.forms import StepsForm
from collector.dunning.models import LANGUAGES, DunningStep, MailText
from collector.extensions import db
from collector.runtime.views import protect
from collector.runtime.wordings import Wordings
from collector.runtime.wordings import known as _l

bp = protect(Blueprint("dunning", __name__, url_prefix="/profiles/<int:profile_id>/dunning"))

REFUSALS = Wordings(
    _l("At most %(count)s steps."),
    _l("Days between 1 and %(count)s after the due date."),
    _l("Each day once: two steps fall on the same day."),
    _l("One hand-off at most, as the last step."),
)
LANGUAGE_NAMES = {
    "nl": lazy_gettext("Dutch"),
    "fr": lazy_gettext("French"),
    "en": lazy_gettext("English"),
}


@bp.route("/", methods=["GET", "POST"])
def steps(profile_id: int):
    profile = db.get_or_404(Profile, profile_id)
    form = StepsForm()
    if not form.is_submitted():
        form.load(profile.dunning_steps)
    refused: list[str] = []
    if form.validate_on_submit():
        try:
            dunning_steps.replace_steps(profile, form.to_data())
        except Invalid as exc:
            db.session.rollback()
            refused = [REFUSALS(m) for ms in exc.errors.values() for m in ms]
        else:
            flash(_("Dunning steps of “%(name)s” saved.", name=profile.name), "success")
            return redirect(url_for("dunning.steps", profile_id=profile.id))
    status = 400 if form.errors or refused else 200
    texts = db.session.scalars(sa.select(MailText).filter_by(profile_id=profile.id))
    return render_template(
        "dunning/steps.html",
        profile=profile,
        form=form,
        refused=refused,
        slots=_slots(profile),
        edited={(t.slot, t.language) for t in texts},
        languages=LANGUAGES,
        language_names=LANGUAGE_NAMES,
    ), status


def _slots(profile: Profile) -> list[tuple[str, DunningStep | None]]:
    """The texts there are: the invitation's, then each mail step's, as URL slots."""
    steps = [(f"step-{s.id}", s) for s in profile.dunning_steps if s.sends_mail]
    # A direct-debit profile also mails a customer whose mandate a failed debit ended.
    unusable = [("mandate-unusable", None)] if profile.allow_direct_debit else []
    return [("invitation", None), *steps, *unusable]


BLUEPRINTS = (bp,)
