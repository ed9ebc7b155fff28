"""Invoices and credit notes: the overview with its filters, one document, and an
admin's "mark as paid" and "archive" of it, and the refund or keep of its overpayment."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from collector.core.errors import Invalid
from collector.documents import changes, profiles
from collector.documents.models import Customer, DocumentKind, Invoice, InvoiceState
from collector.extensions import db
from collector.mail import invitations
from collector.mail import jobs as mail_jobs
from collector.payments import refunds
from collector.payments import setup as payments_setup
from collector.runtime import setup as runtime_setup
from collector.runtime.forms import ConfirmForm
from collector.runtime.views import (
    confirmed,
    form_change,
    list_args,
    or_404,
    pdf_response,
    protect,
)
from collector.teamleader import connection as teamleader_connection
from collector.teamleader import jobs as teamleader_jobs
from collector.teamleader import pdfs
from collector.web import overview
from collector.web.forms import (
    ArchiveForm,
    KeepOverpaymentForm,
    MarkPaidForm,
    RefundOverpaymentForm,
)

bp = protect(Blueprint("invoices", __name__, url_prefix="/invoices"))


# The imports screen is its own blueprint; a document links to its import when
# that screen is there.
IMPORT_ENDPOINT = "imports.detail"


MAX_SELECTED = 500


ACTIONS = ("fetch_pdfs", "send_invitations")


# Both forms sit on the detail page: prefixes keep their fields' names and ids apart.
MARK_PAID = "paid"


ARCHIVE = "archive"


KEEP = "keep"


REFUND = "refund"


@bp.get("/")
def index():
    try:
        args = overview.parse_query(request.args)
    except Invalid as exc:
        return _overview(None, exc.errors), 400
    customer_id = args["criteria"].customer_id
    customer = db.session.get(Customer, customer_id) if customer_id else None
    return _overview(overview.search_invoices(**args), {}, customer)


def _overview(result, errors: dict, customer: Customer | None = None) -> str:
    shown = [d.id for d in result.items] if result else []
    return render_template(
        "invoices/index.html",
        result=result,
        errors=errors,
        values=request.args,
        query=list_args(),
        kinds=list(DocumentKind),
        states=list(InvoiceState),
        profiles=profiles.list_profiles(),
        departments=_departments(),
        customer=customer,
        invitations=invitations.invitations_of(shown),
        teamleader=overview.sync_badges(result.items) if result else {},
        exact=overview.exact_bookings(result.items) if result else {},
        actions=ConfirmForm(),
    )


@bp.get("/<int:invoice_id>")
def detail(invoice_id: int):
    return _detail_page(invoice_id)


def _detail_page(invoice_id: int, status: int = 200, **forms):
    found = or_404(overview.invoice_detail, invoice_id)
    invoice = found.invoice
    forms.setdefault("mark_paid_form", MarkPaidForm(prefix=MARK_PAID, formdata=None))
    forms.setdefault("archive_form", ArchiveForm(prefix=ARCHIVE, formdata=None))
    forms.setdefault("keep_form", KeepOverpaymentForm(prefix=KEEP, formdata=None))
    forms.setdefault("refund_form", RefundOverpaymentForm(prefix=REFUND, formdata=None))
    return render_template(
        "invoices/detail.html",
        invoice=invoice,
        found=found,
        events=found.events,
        credit_notes=found.credit_notes,
        department=_departments().get(invoice.department_id, invoice.department_id),
        import_url=_import_url(invoice),
        mails=invoice.mails,
        actions=ConfirmForm(),
        **forms,
    ), status


@bp.post("/<int:invoice_id>/mark-paid")
def mark_paid(invoice_id: int):
    form = MarkPaidForm(prefix=MARK_PAID)
    return _change(invoice_id, form, "mark_paid_form", changes.mark_paid, "Marked as paid.")


@bp.post("/<int:invoice_id>/archive")
def archive(invoice_id: int):
    form = ArchiveForm(prefix=ARCHIVE)
    return _change(invoice_id, form, "archive_form", changes.archive, "Archived.")


@bp.post("/<int:invoice_id>/overpayment/refund")
def refund_overpayment(invoice_id: int):
    provider = payments_setup.provider(current_app)

    def refund(invoice_id: int, actor: str):
        return refunds.refund_overpayment(invoice_id, provider, actor)

    form = RefundOverpaymentForm(prefix=REFUND)
    return _change(invoice_id, form, "refund_form", refund, "The overpayment is refunded.")


@bp.post("/<int:invoice_id>/overpayment/keep")
def keep_overpayment(invoice_id: int):
    form = KeepOverpaymentForm(prefix=KEEP)
    return _change(
        invoice_id, form, "keep_form", changes.keep_overpayment, "The overpayment is kept."
    )


def _change(invoice_id: int, form, name: str, verb, done: str):
    """Run ``verb`` with the form's data: back to the page when done; the page with the
    form's errors (400) or with the refusal (409) when not."""
    actor = f"user:{current_user.email}"

    def finished():
        flash(done, "success")
        return redirect(url_for("invoices.detail", invoice_id=invoice_id))

    def page(status: int, failed=None):
        return _detail_page(invoice_id, status, **({name: failed} if failed else {}))

    return form_change(form, lambda data: verb(invoice_id, actor=actor, **data), finished, page)


@bp.get("/<int:invoice_id>/pdf")
def pdf(invoice_id: int):
    invoice = db.get_or_404(Invoice, invoice_id)
    content = pdfs.read_pdf(runtime_setup.document_store(current_app), invoice)
    if content is None:
        abort(404, "This document's PDF has not been fetched yet.")
    return pdf_response(content, pdfs.pdf_filename(invoice))


@bp.post("/actions")
def actions():
    """The overview's and the detail page's buttons: fetch PDFs, send invitations."""
    back = request.form.get("back") or url_for("invoices.index")
    if not back.startswith("/") or back.startswith("//"):
        back = url_for("invoices.index")
    if not confirmed():
        return redirect(back)
    action, ids, problem = _selection()
    if problem:
        flash(problem, "error")
        return redirect(back)
    actor = f"user:{current_user.email}"
    if action == "fetch_pdfs":
        run = current_app.extensions["jobs"].enqueue(
            teamleader_jobs.fetch_pdfs, ids, actor, user=current_user
        )
        return redirect(url_for("job_runs.show", job_id=run.job_id))
    again = request.form.get("again")
    invited = invitations.already_invited(ids)
    if invited and again is None:
        return render_template(
            "invoices/confirm_invitations.html",
            ids=ids,
            invited=invited,
            back=back,
            actions=ConfirmForm(),
        )
    run = current_app.extensions["jobs"].enqueue(
        mail_jobs.send_invitations, ids, actor, again == "1", user=current_user
    )
    return redirect(url_for("job_runs.show", job_id=run.job_id))


def _selection() -> tuple[str, list[int], str | None]:
    action = request.form.get("action", "")
    if action not in ACTIONS:
        return action, [], "Choose what to do with the selected documents."
    raw = request.form.getlist("ids")
    if not raw:
        return action, [], "Select at least one document."
    if len(raw) > MAX_SELECTED or not all(v.isdigit() and len(v) < 12 for v in raw):
        return action, [], f"Select between 1 and {MAX_SELECTED} documents."
    ids = list(dict.fromkeys(int(v) for v in raw))
    found = db.session.scalars(db.select(Invoice.id).where(Invoice.id.in_(ids))).all()
    if len(found) != len(ids):
        return action, [], "Some of the selected documents no longer exist; reload the page."
    return action, ids, None


def _departments() -> dict[str, str]:
    return teamleader_connection.department_names()


def _import_url(invoice: Invoice) -> str | None:
    if invoice.import_id is None or IMPORT_ENDPOINT not in current_app.view_functions:
        return None
    return url_for(IMPORT_ENDPOINT, import_id=invoice.import_id)
