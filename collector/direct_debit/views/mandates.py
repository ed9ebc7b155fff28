"""Mandates: the list (sorted, searched, counted, exported), one mandate (revoke it), the
CSV upload with its preview and commit, and the template CSV."""

import functools

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField

from collector.accounts import audit
from collector.accounts.creditor import grouped
from collector.core.errors import Conflict
from collector.core.storage import StoredDocumentMissing
from collector.direct_debit import exports, mandate_list, mandate_upload, mandates, signing
from collector.direct_debit import jobs as direct_debit_jobs
from collector.direct_debit.collection_outcomes import REASONS
from collector.direct_debit.mandate_problems import FILE_ERRORS, PROBLEMS
from collector.direct_debit.models import MandateScheme, MandateStatus, MandateUploadStatus
from collector.direct_debit.views.lists import csv_download, worked_list
from collector.direct_debit.wording import state_word
from collector.documents import profiles
from collector.documents.models import Customer
from collector.extensions import db
from collector.runtime import setup as runtime_setup
from collector.runtime.forms import ConfirmForm, strip_text
from collector.runtime.views import (
    admin_required,
    confirmed,
    download_response,
    form_change,
    or_404,
    pdf_response,
    protect,
    saved,
)
from collector.runtime.wordings import Wordings

bp = protect(Blueprint("mandates", __name__, url_prefix="/mandates"))

# The form's other fields and the multipart framing come on top of the file itself.
REQUEST_SLACK = 64 * 1024
# Why a mandate is no longer active, when the system ended it (``mandates.LAPSE_REASON``).
STATUS_REASONS = Wordings(mandates.LAPSE_REASON)


class UploadForm(FlaskForm):
    file = FileField(
        _l("Mandates CSV"), validators=[FileRequired(_l("Choose a CSV file to upload."))]
    )

    def to_data(self) -> dict:
        return {"file": self.file.data}


class RevokeForm(FlaskForm):
    # No "required" validator: the service owns the rule and its message.
    reason = StringField(_l("Reason"), filters=[strip_text])

    def to_data(self) -> dict:
        return {"reason": self.reason.data or ""}


@bp.app_template_global()
def customer_mandates(customer_id: int):
    """A customer's mandates, for the customer's page."""
    return mandates.customer_mandates(customer_id)


@bp.app_template_global()
def signing_link_of(customer_id: int) -> str | None:
    """The customer's signing page address, if a link was made for them."""
    link = signing.existing_link(customer_id)
    if link is None:
        return None
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + signing.path_for(link)


@bp.app_template_global()
def signature_of(mandate_id: int):
    """How the mandate was signed online, if it was."""
    return signing.signature_of(mandate_id)


# The words of a state inside a sentence or an option label, in the reader's language.
bp.add_app_template_global(state_word, "state_word")


@bp.app_template_filter("grouped_iban")
def grouped_iban(value: str | None) -> str:
    """``BE68539007547034`` → ``BE68 5390 0754 7034``."""
    return grouped(value or "")


@bp.get("/")
def index():
    return worked_list(
        "direct_debit/mandates/index.html",
        mandate_list.parse_query,
        mandate_list.list_mandates,
        mandate_list.SORTS.default,
        statuses=list(MandateStatus),
        schemes=list(MandateScheme),
        profiles=profiles.list_profiles(),
    )


@bp.get("/export.csv")
def export():
    """The filtered, sorted list, every page of it, as a CSV download."""
    return csv_download(
        mandate_list.parse_query, mandate_list.export_rows, exports.mandates_csv, "mandates"
    )


@bp.get("/<int:mandate_id>")
def detail(mandate_id: int):
    return _detail_page(mandate_id, 200)


@bp.post("/<int:mandate_id>/revoke")
def revoke(mandate_id: int):
    actor = f"user:{current_user.email}"
    return form_change(
        RevokeForm(),
        lambda data: mandates.revoke(mandate_id, data["reason"], actor),
        lambda: _revoked(mandate_id),
        functools.partial(_detail_page, mandate_id),
    )


@bp.get("/<int:mandate_id>/signed.pdf")
def signed_pdf(mandate_id: int):
    """The PDF made when the customer signed the mandate online."""
    signature = signing.signature_of(mandate_id)
    if signature is None:
        abort(404, _("This mandate was not signed online."))
    try:
        content = runtime_setup.document_store(current_app).get(signature.pdf_key)
    except StoredDocumentMissing:
        abort(404, _("The PDF of this mandate is no longer stored."))
    return pdf_response(content, signing.pdf_filename(signature))


@bp.post("/signing-link/<int:customer_id>")
def signing_link(customer_id: int):
    """Make the customer's signing link (or show the one they have) to pass on to them."""
    customer = _customer_or_404(customer_id)
    back = url_for("customers.detail", customer_id=customer.id) + "#mandates"
    if not confirmed():
        return redirect(back)
    audit.record("mandate.signing_link", target=f"customer:{customer.id}")
    signing.ensure_link(customer, f"user:{current_user.email}")
    db.session.commit()
    flash(_("The signing link is below: pass it on to the customer."), "success")
    return redirect(back)


@bp.post("/signing-link/<int:customer_id>/send")
def send_signing_link(customer_id: int):
    """Mail the customer their signing link."""
    customer = _customer_or_404(customer_id)
    back = url_for("customers.detail", customer_id=customer.id) + "#mandates"
    if not confirmed():
        return redirect(back)
    try:
        audit.record("mandate.signing_link_sent", target=f"customer:{customer.id}")
        signing.send_link(customer, f"user:{current_user.email}")
    except Conflict as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("The signing link is being mailed to %(email)s.", email=customer.email), "success")
    return redirect(back)


def _customer_or_404(customer_id: int) -> Customer:
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        abort(404, _("No customer with id %(id)s.", id=customer_id))
    return customer


def _revoked(mandate_id: int):
    flash(_("Mandate revoked; its reference is never used again."), "success")
    pending = mandates.pending_collections(mandate_id)
    if pending:
        flash(
            ngettext(
                "%(num)s collection on it is in a run not yet sent to the bank: cancel that "
                "run to keep it out of the file.",
                "%(num)s collections on it are in a run not yet sent to the bank: cancel that "
                "run to keep them out of the file.",
                pending,
            ),
            "warning",
        )
    return redirect(url_for("mandates.detail", mandate_id=mandate_id))


def _detail_page(mandate_id: int, status: int, form: RevokeForm | None = None):
    mandate = or_404(mandates.get_mandate, mandate_id)
    page = render_template(
        "direct_debit/mandates/detail.html",
        mandate=mandate,
        form=form or RevokeForm(formdata=None),
        lapses_on=mandates.lapses_on(mandate),
        collections=mandates.recent_collections(mandate.id),
        status_reason=STATUS_REASONS.shown,
        collection_reason=REASONS.shown,
    )
    return page, status


@bp.get("/template.csv")
def template():
    return download_response(mandate_upload.template_csv(), "mandates.csv", "text/csv")


@bp.get("/uploads/new")
@admin_required
def new_upload():
    return _upload_page(UploadForm(), 200)


@bp.post("/uploads/new")
def create_upload():
    if (request.content_length or 0) > mandate_upload.MAX_FILE_BYTES + REQUEST_SLACK:
        abort(413, _("The file is too large to upload at once; split it."))
    form = UploadForm()
    received = []
    if form.validate_on_submit() and saved(form, lambda data: received.append(_receive(data))):
        upload = received[0]
        direct_debit_jobs.start_mandate_job(
            direct_debit_jobs.check_mandate_upload, upload.id, user=current_user
        )
        flash(_("%(file)s uploaded; it is being checked.", file=upload.filename), "success")
        return redirect(url_for("mandates.upload", upload_id=upload.id))
    return _upload_page(form, 400)


def _receive(data: dict):
    storage = data["file"]
    return mandate_upload.receive(
        storage.stream,
        storage.filename,
        runtime_setup.document_store(current_app),
        actor=f"user:{current_user.email}",
    )


def _upload_page(form: UploadForm, status: int):
    page = render_template(
        "direct_debit/mandates/new_upload.html",
        form=form,
        uploads=mandate_upload.recent_uploads(),
        max_megabytes=mandate_upload.MAX_FILE_BYTES // (1024 * 1024),
    )
    return page, status


@bp.get("/uploads/<int:upload_id>")
def upload(upload_id: int):
    found = _upload_or_404(upload_id)
    job = mandate_upload.latest_job(found)
    return render_template(
        "direct_debit/mandates/upload.html",
        upload=found,
        job=job,
        working=mandate_upload.in_progress(found, job),
        earlier=mandate_upload.earlier_uploads(found),
        confirm=ConfirmForm(),
        statuses=MandateUploadStatus,
        problem_text=PROBLEMS.shown,
        file_error_text=FILE_ERRORS.shown,
    )


@bp.post("/uploads/<int:upload_id>/commit")
def commit(upload_id: int):
    found = _upload_or_404(upload_id)
    if confirmed():
        if found.status == MandateUploadStatus.READY:
            actor = f"user:{current_user.email}"
            direct_debit_jobs.start_mandate_job(
                direct_debit_jobs.commit_mandate_upload, found.id, actor, user=current_user
            )
            flash(_("Storing the mandates…"), "success")
        else:
            status = state_word(found.status.value)
            flash(_("This upload is %(status)s; it cannot be committed.", status=status), "error")
    return redirect(url_for("mandates.upload", upload_id=found.id))


def _upload_or_404(upload_id: int):
    return or_404(mandate_upload.get_upload, upload_id)
