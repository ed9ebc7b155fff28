"""Invoices and credit notes: the overview with its filters, sort and totals, its export
as CSV or XLSX, what an admin does with the documents ticked in it, one document, and an
admin's "mark as paid" and "archive" of it, and the refund or keep of its overpayment."""

from __future__ import annotations

import tempfile

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from collector.core import clock
from collector.core.columns import utcnow
from collector.core.errors import Invalid
from collector.direct_debit import failed_debits
from collector.documents import changes, profiles
from collector.documents.models import Customer, DocumentKind, Invoice, InvoiceState
from collector.dunning import hold_views as dunning_views
from collector.dunning import policy, schedule
from collector.dunning import wording as dunning_wording
from collector.extensions import db
from collector.mail import invitations, reminders
from collector.mail import jobs as mail_jobs
from collector.payments import refunds
from collector.payments import setup as payments_setup
from collector.runtime import setup as runtime_setup
from collector.runtime.forms import ConfirmForm
from collector.runtime.listing import Page
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
from collector.web import (
    exports,
    history,
    invoice_detail,
    invoice_pages,
    overview,
    selection,
    states,
)
from collector.web.forms import (
    ArchiveForm,
    KeepOverpaymentForm,
    MarkPaidForm,
    RefundOverpaymentForm,
)
from collector.web.invoice_query import InvoiceFilter

bp = protect(Blueprint("invoices", __name__, url_prefix="/invoices"))


# The imports screen is its own blueprint; a document links to its import when
# that screen is there.
IMPORT_ENDPOINT = "imports.detail"


# Both forms sit on the detail page: prefixes keep their fields' names and ids apart.
MARK_PAID = "paid"


ARCHIVE = "archive"


KEEP = "keep"


REFUND = "refund"


@bp.get("/")
def index():
    try:
        args = invoice_pages.parse_list_query(request.args)
    except Invalid as exc:
        return _overview(None, overview.DEFAULT_SORT, exc.errors), 400
    customer_id = args["criteria"].customer_id
    customer = db.session.get(Customer, customer_id) if customer_id else None
    return _overview(overview.list_invoices(**args), args["sort"], {}, customer)


@bp.get("/totals")
def totals():
    """The totals of the list the same query shows, and its page count: a page of its own,
    which the list's script puts in place once the rows are shown (a sum over every
    document of the filter, where the list reads its page alone)."""
    try:
        args = invoice_pages.parse_list_query(request.args)
    except Invalid as exc:
        page = render_template("invoices/totals.html", totals=None, errors=exc.errors)
        return _private(page, 400)
    counted = overview.list_totals(args["criteria"])
    pager = Page(items=[], total=counted.count, page=args["page"], per_page=args["per_page"])
    page = render_template(
        "invoices/totals.html", totals=counted, pager=pager, errors={}, query=list_args()
    )
    return _private(page, 200)


def _private(page: str, status: int) -> Response:
    response = Response(page, status)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _overview(result, sort: str, errors: dict, customer: Customer | None = None) -> str:
    items = result.items if result else []
    query = list_args()
    return render_template(
        "invoices/index.html",
        result=result,
        errors=errors,
        values=request.args,
        query=query,
        # Sorting starts again on the first page, with every filter kept.
        sort_query={k: v for k, v in query.items() if k != "sort"},
        sort=sort,
        kinds=list(DocumentKind),
        states=list(InvoiceState),
        state_label=states.label,
        profiles=profiles.list_profiles(),
        departments=_departments(),
        customer=customer,
        facts=overview.row_facts(items),
        held=policy.holds_on([d.id for d in items], clock.local_today()) if items else {},
        hold_reasons=dunning_wording.REASONS,
        failed_debit_label=failed_debits.label,
        failed_debit_title=failed_debits.title,
        invitations=invitations.invitations_of([d.id for d in items]),
        today=clock.local_today(),
        next_steps=schedule.next_steps(items, clock.local_today()),
        teamleader=overview.sync_badges(items),
        exact=overview.exact_bookings(items),
        actions=ConfirmForm(),
    )


@bp.get("/export.<any(csv, xlsx):file_format>")
def export(file_format: str):
    """The filtered, sorted overview, every page of it, as a CSV or XLSX download."""
    try:
        args = overview.parse_query(request.args)
    except Invalid as exc:
        abort(400, "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items()))
    rows = overview.export_rows(args["criteria"], args["sort"])
    return _download(rows, file_format, f"documents-{clock.local_today().isoformat()}")


def _download(rows, file_format: str, name: str) -> Response:
    """``rows`` (``overview.ExportRow``) as a CSV or XLSX attachment ``name.file_format``."""
    filename = f"{name}.{file_format}"
    if file_format == "csv":
        # stream_with_context keeps the database session open while the body is sent.
        response = Response(
            stream_with_context(exports.invoices_csv(rows)), mimetype=exports.CSV_MIMETYPE
        )
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    else:
        # An XLSX is a zip: it can only be sent once whole. The file disappears when
        # the response closes it.
        target = tempfile.TemporaryFile()  # noqa: SIM115  (closed by the response)
        try:
            exports.write_xlsx(rows, target)
        except BaseException:
            target.close()
            raise
        target.seek(0)
        response = send_file(
            target, mimetype=exports.XLSX_MIMETYPE, as_attachment=True, download_name=filename
        )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/<int:invoice_id>")
def detail(invoice_id: int):
    return _detail_page(invoice_id)


def _detail_page(invoice_id: int, status: int = 200, **forms):
    found = or_404(invoice_detail.invoice_detail, invoice_id)
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
        event_labels=invoice_detail.EVENT_LABELS,
        event_text=history.event_text,
        actor_text=history.actor_text,
        reason_text=history.reason_text,
        failed_debit_label=failed_debits.label,
        credit_notes=found.credit_notes,
        department=_departments().get(invoice.department_id, invoice.department_id),
        import_url=_import_url(invoice),
        mails=invoice.mails,
        today=clock.local_today(),
        next_step=schedule.next_steps([invoice], clock.local_today()).get(invoice.id),
        chaseable=schedule.may_chase(invoice, clock.local_today()),
        can_invite=invitations.invitable(invoice),
        actions=ConfirmForm(),
        dunning=dunning_views.document_panel(invoice),
        **forms,
    ), status


@bp.post("/<int:invoice_id>/mark-paid")
def mark_paid(invoice_id: int):
    form = MarkPaidForm(prefix=MARK_PAID)
    return _change(invoice_id, form, "mark_paid_form", changes.mark_paid, _("Marked as paid."))


@bp.post("/<int:invoice_id>/archive")
def archive(invoice_id: int):
    form = ArchiveForm(prefix=ARCHIVE)
    return _change(invoice_id, form, "archive_form", changes.archive, _("Archived."))


@bp.post("/<int:invoice_id>/overpayment/refund")
def refund_overpayment(invoice_id: int):
    provider = payments_setup.provider(current_app)

    def refund(invoice_id: int, actor: str):
        return refunds.refund_overpayment(invoice_id, provider, actor)

    form = RefundOverpaymentForm(prefix=REFUND)
    done = _("The overpayment is refunded.")
    return _change(invoice_id, form, "refund_form", refund, done)


@bp.post("/<int:invoice_id>/overpayment/keep")
def keep_overpayment(invoice_id: int):
    form = KeepOverpaymentForm(prefix=KEEP)
    done = _("The overpayment is kept.")
    return _change(invoice_id, form, "keep_form", changes.keep_overpayment, done)


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
        abort(404, _("This document's PDF has not been fetched yet."))
    return pdf_response(content, pdfs.pdf_filename(invoice))


@bp.post("/actions")
def actions():
    """The buttons of the overview's selection and of the detail page: fetch the PDFs,
    send the invitations (asking first when some had one), export the selected."""
    back = request.form.get("back") or url_for("invoices.index")
    if not back.startswith("/") or back.startswith("//") or back.startswith("/\\"):
        back = url_for("invoices.index")
    if not confirmed():
        return redirect(back)
    try:
        chosen = selection.read_selection(request.form)
    except Invalid as exc:
        flash(str(exc), "error")
        return redirect(back)
    if chosen.file_format:
        rows = overview.export_rows(InvoiceFilter(), chosen.sort, ids=chosen.ids)
        name = f"documents-selected-{clock.local_today().isoformat()}"
        return _download(rows, chosen.file_format, name)
    ids, actor = chosen.ids, f"user:{current_user.email}"
    if chosen.action == "hold":
        return dunning_views.selection_page(ids, back)
    if chosen.action == "lift_holds":
        flash(dunning_views.lift_selection(ids), "success")
        return redirect(back)
    if chosen.action == "fetch_pdfs":
        run = current_app.extensions["jobs"].enqueue(
            teamleader_jobs.fetch_pdfs, ids, actor, user=current_user
        )
        return redirect(url_for("job_runs.show", job_id=run.job_id))
    again = request.form.get("again")
    if chosen.action == "send_reminders":
        return _send_reminders(ids, actor, again, back)
    ids = _invitable(ids)
    if not ids:
        none = _("None of the selected documents can be invited: all are paid, archived, credited.")
        flash(none, "error")
        return redirect(back)
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


def _send_reminders(ids: list[int], actor: str, again: str | None, back: str):
    """Each document's next dunning step now; asks first about those reminded lately."""
    within = current_app.config["REMINDER_CONFIRM_DAYS"]
    recent = reminders.recently_reminded(ids, utcnow(), within)
    if recent and again is None:
        return render_template(
            "invoices/confirm_reminders.html",
            ids=ids,
            recent=recent,
            within=within,
            back=back,
            actions=ConfirmForm(),
        )
    if again == "0":
        ids = [i for i in ids if i not in {invoice.id for invoice, _ in recent}]
    if not ids:
        return redirect(back)
    run = current_app.extensions["jobs"].enqueue(
        mail_jobs.send_reminders_now, ids, actor, user=current_user
    )
    return redirect(url_for("job_runs.show", job_id=run.job_id))


def _invitable(ids: list[int]) -> list[int]:
    """The selected documents an invitation may go to; says how many were left out."""
    invoices = db.session.scalars(db.select(Invoice).where(Invoice.id.in_(ids))).all()
    kept = {i.id for i in invoices if invitations.invitable(i)}
    if left_out := len(ids) - len(kept):
        flash(
            ngettext(
                "%(num)s selected document gets no invitation: it is paid, archived, credited "
                "or a credit note.",
                "%(num)s selected documents get no invitation: they are paid, archived, "
                "credited or credit notes.",
                left_out,
            ),
            "error",
        )
    return [i for i in ids if i in kept]


def _departments() -> dict[str, str]:
    return teamleader_connection.department_names()


def _import_url(invoice: Invoice) -> str | None:
    if invoice.import_id is None or IMPORT_ENDPOINT not in current_app.view_functions:
        return None
    return url_for(IMPORT_ENDPOINT, import_id=invoice.import_id)
