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
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField

from collector.core import clock
from collector.core.errors import Conflict, Invalid
from collector.core.storage import StoredDocumentMissing
from collector.direct_debit import (
    bank_file_list,
    bank_files,
    bank_transactions,
    double_payments,
    reason_codes,
)
from collector.direct_debit.bank_notes import NOTES
from collector.direct_debit.files.reading import MAX_BYTES
from collector.direct_debit.models import BankFile, BankFileKind, BankTransaction
from collector.direct_debit.views.lists import worked_list
from collector.direct_debit.wording import money_text
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from collector.runtime.forms import strip_text
from collector.runtime.views import protect

bp = protect(Blueprint("bank_files", __name__, url_prefix="/bank-files"))


# What a bank file did, as its page and the upload's message name each count.
COUNTS = {
    "settled": _l("Settled"),
    "rejected": _l("Rejected"),
    "returned": _l("Returned"),
    "matched": _l("Matched"),
    "unmatched": _l("Unmatched"),
    "known": _l("Known"),
    "skipped": _l("Skipped"),
    "pending": _l("Pending"),
    "transfers_returned": _l("Transfers returned"),
    "other_accounts": _l("Other accounts"),
}

# A bank transaction's kind (``BankTransactionKind``) as its page says it.
KINDS = {
    "collection": _l("direct debit"),
    "reject": _l("reject"),
    "return": _l("return"),
    "transfer": _l("transfer"),
}


class BankFileForm(FlaskForm):
    file = FileField(_l("Bank file"), validators=[FileRequired(_l("Choose the file to upload."))])


class MatchForm(FlaskForm):
    document = StringField(_l("Invoice number or structured reference"), filters=[strip_text])


class DismissForm(FlaskForm):
    # No "required" validator: the service owns the rule and says it the same way.
    reason = StringField(_l("Reason"), filters=[strip_text])


@bp.route("/", methods=["GET", "POST"])
def index():
    form = BankFileForm()
    if form.validate_on_submit():
        bank_file = _upload(form)
        if bank_file is not None:
            said = _("%(file)s: %(counts)s", file=bank_file.filename, counts=_said(bank_file))
            flash(said, "success")
            return redirect(url_for("bank_files.detail", file_id=bank_file.id))
    # A refused upload shows the list as it was, under the form with its error.
    args = request.args if request.method == "GET" else {}
    page, status = worked_list(
        "direct_debit/bank_files/index.html",
        lambda _args: bank_file_list.parse_query(args),
        bank_file_list.list_files,
        bank_file_list.SORTS.default,
        form=form,
        kinds=list(BankFileKind),
        did=_did,
        unmatched=bank_transactions.unmatched_count(),
        max_mb=MAX_BYTES // 1024 // 1024,
    )
    return page, (400 if form.errors else status)


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
    return ", ".join(text for _name, text in _did(bank_file)) or _("nothing to apply")


def _did(bank_file: BankFile) -> list[tuple[str, str]]:
    """What a file did, count by count ("settled", "1 settled"), leaving out the zeros."""
    return [(name, SAID[name](n)) for name, n in bank_files.counts_of(bank_file) if n]


# The upload's message: "3 settled, 1 unmatched", each count agreeing with its number.
SAID = {
    "settled": lambda n: ngettext("%(num)s settled", "%(num)s settled", n),
    "rejected": lambda n: ngettext("%(num)s rejected", "%(num)s rejected", n),
    "returned": lambda n: ngettext("%(num)s returned", "%(num)s returned", n),
    "matched": lambda n: ngettext("%(num)s matched", "%(num)s matched", n),
    "unmatched": lambda n: ngettext("%(num)s unmatched", "%(num)s unmatched", n),
    "known": lambda n: ngettext("%(num)s known", "%(num)s known", n),
    "skipped": lambda n: ngettext("%(num)s skipped", "%(num)s skipped", n),
    "pending": lambda n: ngettext("%(num)s pending", "%(num)s pending", n),
    "transfers_returned": lambda n: ngettext(
        "%(num)s transfer returned", "%(num)s transfers returned", n
    ),
    "other_accounts": lambda n: ngettext("%(num)s other account", "%(num)s other accounts", n),
}


@bp.get("/<int:file_id>")
def detail(file_id: int):
    bank_file = db.get_or_404(BankFile, file_id)
    return render_template(
        "direct_debit/bank_files/detail.html",
        bank_file=bank_file,
        counts=bank_files.counts_of(bank_file),
        count_labels=COUNTS,
        kind_labels=KINDS,
        describe=reason_codes.shown,
        note_text=NOTES.shown,
    )


@bp.get("/<int:file_id>/download")
def download(file_id: int):
    bank_file = db.get_or_404(BankFile, file_id)
    try:
        file = runtime_setup.document_store(current_app).open(bank_file.file_key)
    except ValueError:
        abort(404)
    except StoredDocumentMissing:
        abort(404, _("The stored file is gone."))
    # Streamed from the store (a folder or a bucket); the response closes the file.
    return send_file(
        file,
        mimetype=MIMETYPES.get(bank_file.kind, "application/xml"),
        as_attachment=True,
        download_name=bank_file.filename,
    )


# CODA and MT940 are plain text; the ISO 20022 files XML.
MIMETYPES = {BankFileKind.CODA: "text/plain", BankFileKind.MT940: "text/plain"}


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
        amount = money_text(tx.amount, tx.currency)
        return _("%(amount)s matched to %(number)s.", amount=amount, number=invoice.number)

    return _resolve(tx, "match", form, form.document, apply)


@bp.post("/transactions/<int:tx_id>/dismiss")
def dismiss(tx_id: int):
    tx = db.get_or_404(BankTransaction, tx_id)
    form = DismissForm()

    def apply(actor: str) -> str:
        bank_transactions.dismiss(tx, form.reason.data or "", actor)
        return _("%(amount)s dismissed.", amount=money_text(tx.amount, tx.currency))

    return _resolve(tx, "dismiss", form, form.reason, apply)


@bp.post("/transactions/<int:tx_id>/refund")
def refund(tx_id: int):
    tx = db.get_or_404(BankTransaction, tx_id)
    form = DismissForm()

    def apply(actor: str) -> str:
        double_payments.refund(tx, form.reason.data or "", actor)
        return _(
            "%(amount)s to be refunded to the payer.", amount=money_text(tx.amount, tx.currency)
        )

    return _resolve(tx, "refund", form, form.reason, apply)


@bp.post("/transactions/<int:tx_id>/keep")
def keep(tx_id: int):
    tx = db.get_or_404(BankTransaction, tx_id)
    form = DismissForm()

    def apply(actor: str) -> str:
        double_payments.keep(tx, form.reason.data or "", actor)
        return _(
            "%(amount)s kept as a credit for the customer.",
            amount=money_text(tx.amount, tx.currency),
        )

    return _resolve(tx, "keep", form, form.reason, apply)


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
        doubles=double_payments.waiting(),
        failed=failed.id if failed is not None else None,
        refund_form=forms.get("refund") or DismissForm(formdata=None),
        keep_form=forms.get("keep") or DismissForm(formdata=None),
        match_form=forms.get("match") or MatchForm(formdata=None),
        dismiss_form=forms.get("dismiss") or DismissForm(formdata=None),
        note_text=NOTES.shown,
    ), status
