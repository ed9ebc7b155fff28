"""Sync problems: what Teamleader refused or was not sent, status callbacks given up on,
emails to customers that failed. Everyone logged in may read; only admins send again."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from collector.core.errors import Conflict, NotFound
from collector.documents import callbacks
from collector.runtime.views import or_404, protect
from collector.teamleader import payment_sync
from collector.web import attention, overview

bp = protect(Blueprint("problems", __name__, url_prefix="/sync-problems"))
# The document's page sends this as ``back`` to come back to it after "Send again".
BACK_TO_INVOICE = "invoice"


@bp.get("/")
def index():
    return render_template(
        "problems/index.html", problems=attention.find_problems(), labels=overview.SYNC_BADGES
    )


@bp.post("/teamleader/<int:sync_id>/retry")
def retry_teamleader(sync_id: int):
    sync = or_404(payment_sync.retry, sync_id)
    flash(_("%(number)s is sent to Teamleader again.", number=sync.invoice.number), "success")
    if request.form.get("back") == BACK_TO_INVOICE:
        return redirect(url_for("invoices.detail", invoice_id=sync.invoice_id))
    return redirect(url_for("problems.index"))


@bp.post("/callbacks/<int:delivery_id>/retry")
def retry_callback(delivery_id: int):
    try:
        callbacks.retry_now(delivery_id)
    except NotFound as exc:
        abort(404, str(exc))
    except Conflict as exc:
        flash(str(exc), "error")
    else:
        flash(_("Callback delivery #%(id)s is sent again now.", id=delivery_id), "success")
    return redirect(url_for("problems.index"))
