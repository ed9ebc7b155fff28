"""Collection runs: the list (sorted, searched, totalled per state, exported), a new run
(its numbers shown before it is made), one run with its collections, its pain.008 to
download, and "mark as sent" or "cancel"."""

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired

from collector.core import clock
from collector.core.errors import Conflict, Invalid, NotFound
from collector.core.storage import StoredDocumentMissing
from collector.direct_debit import collection_runs, exports, return_rules, run_list
from collector.direct_debit.collection_outcomes import REASONS
from collector.direct_debit.models import CollectionRun, CollectionRunStatus, MandateScheme
from collector.direct_debit.views.lists import csv_download, worked_list
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from collector.runtime.forms import ConfirmForm, strip_text
from collector.runtime.views import (
    admin_required,
    confirmed,
    confirmed_change,
    download_response,
    protect,
)

bp = protect(Blueprint("collections", __name__, url_prefix="/collections"))
DEFAULT_DAYS = 7


class RunForm(FlaskForm):
    """Which mandates and up to which announced day: read as a GET for the preview,
    posted with its CSRF token to make the run."""

    scheme = SelectField(_l("Scheme"), choices=[(s.value, s.value) for s in MandateScheme])
    until = DateField(_l("Collect what is announced up to"), validators=[InputRequired()])


class CreateForm(RunForm):
    """The run as previewed: the count and total shown, so nothing else is collected."""

    count = IntegerField(validators=[InputRequired()])
    total = DecimalField(places=2, validators=[InputRequired()])


class CancelForm(FlaskForm):
    # The service owns the rule (a reason, at most 300 characters).
    reason = StringField(_l("Reason"), filters=[strip_text])


@bp.get("/")
def index():
    return worked_list(
        "direct_debit/collections/index.html",
        run_list.parse_query,
        _runs_page,
        run_list.SORTS.default,
        statuses=list(CollectionRunStatus),
        schemes=list(MandateScheme),
        outcome_statuses=run_list.OUTCOMES,
    )


def _runs_page(**args) -> tuple:
    """The page of runs, and with the totals what the bank made of each run's collections."""
    result, totals = run_list.list_runs(**args)
    return result, {"states": totals, "outcomes": run_list.outcomes([r.id for r in result.items])}


@bp.get("/export.csv")
def export():
    """The filtered, sorted list of runs, every page of it, as a CSV download."""
    return csv_download(run_list.parse_query, run_list.export_rows, exports.runs_csv, "runs")


@bp.get("/new")
@admin_required
def new():
    asked = "until" in request.args
    form = RunForm(request.args, meta={"csrf": False}) if asked else RunForm()
    if not asked:
        form.until.data = _today() + timedelta(days=DEFAULT_DAYS)
    plan = None
    if asked and form.validate():
        plan = collection_runs.preview(_today(), form.until.data, form.scheme.data)
    status = 400 if form.errors else 200
    return render_template("direct_debit/collections/new.html", form=form, plan=plan), status


@bp.post("/new")
def create():
    form = CreateForm()
    if not confirmed(form, _("The form expired or was incomplete; look at the numbers again.")):
        return redirect(url_for("collections.new"))
    store = runtime_setup.document_store(current_app)
    data = (form.until.data, form.scheme.data)
    expected = (form.count.data, form.total.data)
    try:
        runs = collection_runs.create_runs(store, _today(), *data, _actor(), expected=expected)
    except Conflict as exc:
        db.session.rollback()
        flash(str(exc), "error")
        plan = collection_runs.preview(_today(), *data)
        return render_template("direct_debit/collections/new.html", form=form, plan=plan), 409
    for run in runs:
        made = ngettext(
            "Run #%(run)s made: %(num)s direct debit. Download its file for the bank.",
            "Run #%(run)s made: %(num)s direct debits. Download its file for the bank.",
            run.count,
            run=run.id,
        )
        flash(made, "success")
    # One file per creditor account: with several, the list shows them all.
    return redirect(_detail_url(runs[0]) if len(runs) == 1 else url_for("collections.index"))


@bp.get("/<int:run_id>")
def detail(run_id: int):
    return _detail_page(db.get_or_404(CollectionRun, run_id))


def _detail_page(run: CollectionRun, status: int = 200, cancel_form=None):
    return render_template(
        "direct_debit/collections/detail.html",
        run=run,
        collections=collection_runs.collections_of(run),
        open=run.status == CollectionRunStatus.CREATED,
        collection_reason=REASONS.shown,
        step_words=return_rules.ACTION_WORDS,
        confirm=ConfirmForm(),
        cancel_form=cancel_form or CancelForm(),
    ), status


@bp.get("/<int:run_id>/file")
def download(run_id: int):
    run = db.get_or_404(CollectionRun, run_id)
    try:
        content = collection_runs.file(run, runtime_setup.document_store(current_app))
    except (NotFound, StoredDocumentMissing):
        abort(404, _("This run's file is missing from the document store."))
    return download_response(content, collection_runs.file_name(run), "application/xml")


@bp.post("/<int:run_id>/sent")
def sent(run_id: int):
    run = db.get_or_404(CollectionRun, run_id)

    def mark_sent() -> str:
        collection_runs.mark_sent(run, _actor())
        return _("Run #%(run)s marked as sent to the bank.", run=run.id)

    return confirmed_change(mark_sent, _detail_url(run), lambda status: _detail_page(run, status))


@bp.post("/<int:run_id>/cancel")
def cancel(run_id: int):
    run = db.get_or_404(CollectionRun, run_id)
    form = CancelForm()
    if not confirmed(form):
        return redirect(_detail_url(run))
    try:
        collection_runs.cancel(run, form.reason.data or "", _actor(), _today())
    except Invalid as exc:
        db.session.rollback()
        form.reason.errors = list(exc.errors.get("reason", [str(exc)]))
        return _detail_page(run, 400, form)
    except Conflict as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _detail_page(run, 409)
    flash(_("Run #%(run)s cancelled: its documents are open again.", run=run.id), "success")
    return redirect(_detail_url(run))


def _detail_url(run: CollectionRun) -> str:
    return url_for("collections.detail", run_id=run.id)


def _today():
    return clock.local_today()


def _actor() -> str:
    return f"user:{current_user.email}"
