"""A profile's table of what a failed direct debit leads to, by reason code (admins)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from collector.core.errors import Invalid
from collector.direct_debit import reason_codes, return_rules
from collector.direct_debit.models import ReturnAction
from collector.documents.models import Profile
from collector.extensions import db
from collector.runtime.forms import ConfirmForm
from collector.runtime.views import admin_required, protect

bp = protect(
    Blueprint("failed_debits", __name__, url_prefix="/profiles/<int:profile_id>/failed-debits")
)


@bp.route("/", methods=["GET", "POST"])
@admin_required
def rules(profile_id: int):
    profile = db.get_or_404(Profile, profile_id)
    form = ConfirmForm()
    errors: dict[str, list[str]] = {}
    if form.validate_on_submit():
        actions = {code: request.form.get(f"action-{code}", "") for code in return_rules.CODES}
        try:
            return_rules.save(
                profile,
                actions,
                request.form.get("retries"),
                request.form.get("delay"),
                f"user:{current_user.email}",
            )
        except Invalid as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            db.session.commit()
            flash(
                _("What failed direct debits lead to on “%(name)s” is saved.", name=profile.name),
                "success",
            )
            return redirect(url_for("failed_debits.rules", profile_id=profile.id))
    elif form.is_submitted():
        errors = {"form": [_("The form expired; please try again.")]}
    return render_template(
        "direct_debit/return_rules.html",
        profile=profile,
        form=form,
        rows=return_rules.table(profile),
        actions=list(ReturnAction),
        action_words=return_rules.ACTION_WORDS,
        meaning=reason_codes.meaning,
        errors=errors,
        posted=request.form if errors else {},
    ), 400 if errors else 200
