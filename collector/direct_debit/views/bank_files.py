"""Bank files: upload a statement or status report, see what it did, and match by hand the
money that found no document. Everyone logged in may look; only admins change."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    send_file,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField

from collector.core import clock
from collector.core.errors import Conflict, Invalid
from collector.core.storage import StoredDocumentMissing
from collector.direct_debit import bank_files, bank_transactions, reason_codes
from collector.direct_debit.files.reading import MAX_BYTES
from collector.direct_debit.models import BankFile, BankTransaction
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from collector.runtime.forms import strip_text
from collector.runtime.views import protect

bp = protect(Blueprint("bank_files", __name__, url_prefix="/bank-files"))


class BankFileForm(FlaskForm):
    file = FileField("Bank file", validators=[FileRequired("Choose the file to upload.")])


class MatchForm(FlaskForm):
    document = StringField("Invoice number or structured reference", filters=[strip_text])


class DismissForm(FlaskForm):
    # No "required" validator: the service owns the rule and says it the same way.
    reason = StringField("Reason", filters=[strip_text])


@bp.route("/", methods=["GET", "POST"])
def index():
    form = BankFileForm()
    if form.validate_on_submit():
        bank_file = _upload(form)
        if bank_file is not None:
            flash(f"{bank_file.filename}: {_said(bank_file)}", "success")
            return redirect(url_for("bank_files.detail", file_id=bank_file.id))
    return render_template(
        "direct_debit/bank_files/index.html",
        form=form,
        files=bank_files.recent(),
        unmatched=bank_transactions.unmatched_count(),
        max_mb=MAX_BYTES // 1024 // 1024,
    ), (400 if form.errors else 200)


def _upload(form: BankFileForm) -> BankFile | None:
    upload = form.file.data
    # One byte over the cap is enough for the service to refuse it by its size.
    content = upload.stream.read(MAX_BYTES + 1)
    try:
        return bank_files.upload(
            runtime_setup.document_store(current_app),
            upload.filename or "",
            content,
            f"user:{current_user.email}",
            clock.local_today(),
        )
    except bank_files.BankFileRefused as exc:
        form.file.errors = [str(exc)]
        return None


def _said(bank_file: BankFile) -> str:
    counts = [f"{n} {name}" for name, n in bank_files.counts_of(bank_file) if n]
    return ", ".join(counts) or "nothing to apply"


@bp.get("/<int:file_id>")
def detail(file_id: int):
    bank_file = db.get_or_404(BankFile, file_id)
    return render_template(
        "direct_debit/bank_files/detail.html",
        bank_file=bank_file,
        counts=bank_files.counts_of(bank_file),
        describe=reason_codes.describe,
    )


@bp.get("/<int:file_id>/download")
def download(file_id: int):
    bank_file = db.get_or_404(BankFile, file_id)
    try:
        path = runtime_setup.document_store(current_app).path(bank_file.file_key)
    except (ValueError, StoredDocumentMissing):
        abort(404)
    if not path.is_file():
        abort(404, "The stored file is gone.")
    return send_file(
        path, mimetype="application/xml", as_attachment=True, download_name=bank_file.filename
    )


@bp.get("/unmatched")
def unmatched():
    return _unmatched_page()


@bp.post("/transactions/<int:tx_id>/match")
def match(tx_id: int):
    tx = db.get_or_404(BankTransaction, tx_id)
    form = MatchForm()

    def apply(actor: str) -> str:
        invoice = bank_transactions.find_document(form.document.data)
        bank_transactions.match(tx, invoice, actor)
        return f"{tx.amount} {tx.currency} matched to {invoice.number}."

    return _resolve(tx, "match", form, form.document, apply)


@bp.post("/transactions/<int:tx_id>/dismiss")
def dismiss(tx_id: int):
    tx = db.get_or_404(BankTransaction, tx_id)
    form = DismissForm()

    def apply(actor: str) -> str:
        bank_transactions.dismiss(tx, form.reason.data or "", actor)
        return f"{tx.amount} {tx.currency} dismissed."

    return _resolve(tx, "dismiss", form, form.reason, apply)


def _resolve(tx: BankTransaction, name: str, form: FlaskForm, field, apply):
    """Match or dismiss ``tx`` by ``apply(actor)``, which returns what to tell. A refusal
    is shown on the row's form under ``field`` (400); a transaction resolved meanwhile
    is a message on the list (409)."""
    if not form.validate_on_submit():
        return _unmatched_page(400, tx, **{name: form})
    try:
        done = apply(f"user:{current_user.email}")
    except Invalid as exc:
        db.session.rollback()
        field.errors = exc.errors.get(field.name, [str(exc)])
        return _unmatched_page(400, tx, **{name: form})
    except Conflict as exc:
        db.session.rollback()
        flash(str(exc), "error")  # the row may have left the list: not on its form
        return _unmatched_page(409)
    flash(done, "success")
    return redirect(url_for("bank_files.unmatched"))


def _unmatched_page(status: int = 200, failed: BankTransaction | None = None, **forms):
    """The unmatched list; after a refused match or dismissal, the form that failed
    is shown on its row with its errors and what was typed."""
    return render_template(
        "direct_debit/bank_files/unmatched.html",
        transactions=bank_transactions.unmatched(),
        failed=failed.id if failed is not None else None,
        match_form=forms.get("match") or MatchForm(formdata=None),
        dismiss_form=forms.get("dismiss") or DismissForm(formdata=None),
    ), status
