"""The mail a person oversees: invitations held back by imports (sent only when chosen)
and the dry run of what the schedule would send in the next 24 hours."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from collector.core.columns import utcnow
from collector.documents import held_mail
from collector.mail import jobs as mail_jobs
from collector.mail import outlook
from collector.runtime.views import admin_required, confirmed, protect

bp = protect(Blueprint("mail", __name__, url_prefix="/mail"))


@bp.get("/held")
def held():
    """Every held invitation, to tick and send."""
    return render_template("mail/held.html", held=held_mail.held_invitations())


@bp.post("/held/send")
@admin_required
def send_held():
    """Send exactly the ticked held invitations (the form asked first)."""
    back = request.form.get("back") or url_for("mail.held")
    if not back.startswith("/") or back.startswith("//") or back.startswith("/\\"):
        back = url_for("mail.held")
    if not confirmed():
        return redirect(back)
    ids = [int(v) for v in request.form.getlist("ids") if v.isascii() and v.isdigit()]
    if not ids:
        flash(_("Tick the invitations to send."), "error")
        return redirect(back)
    released = held_mail.release(ids, actor=f"user:{current_user.email}")
    if released:
        current_app.extensions["jobs"].enqueue(mail_jobs.send_released, released, user=current_user)
    flash(
        ngettext(
            "%(num)s held invitation is being sent.",
            "%(num)s held invitations are being sent.",
            len(released),
        ),
        "success",
    )
    return redirect(back)


@bp.get("/upcoming")
def upcoming():
    """The dry run: what would go out in the next 24 hours. Read-only."""
    found = outlook.next_day(utcnow(), mail_jobs.REMINDER_CRON)
    return render_template("mail/upcoming.html", outlook=found)


BLUEPRINTS = (bp,)
