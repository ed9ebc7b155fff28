"""Holds and notes in the finance UI: hold or lift a document, a customer or a selection
of the invoice list; keep notes; the list of holds the dashboard links to. Each form
goes back to the page it came from; one that is refused shows again with its errors."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from collector.core import clock
from collector.documents.models import Customer, Invoice
from collector.dunning import holds, notes, policy, wording
from collector.dunning.hold_forms import HoldForm, LiftForm, NoteForm
from collector.dunning.models import Hold
from collector.extensions import db
from collector.runtime.views import form_change, protect

bp = protect(Blueprint("holds", __name__))
BLUEPRINTS = [bp]


def _actor() -> str:
    return f"user:{current_user.email}"


def _back(default: str) -> str:
    back = request.form.get("back") or ""
    safe = back.startswith("/") and not back.startswith(("//", "/\\"))
    return back if safe else default


def _form_page(form, title: str, back: str, status: int, **context):
    """The refused form again, its errors on its fields, with a way back."""
    page = render_template("dunning/form.html", form=form, title=title, back=back, **context)
    return page, status


def _change(form, save, done: str, back: str, title: str, **context):
    def finished():
        flash(done, "success")
        return redirect(back)

    def page(status: int, failed=None):
        return _form_page(failed or form, title, back, status, **context)

    return form_change(form, save, finished, page)


@bp.get("/holds/")
def index():
    show = request.args.get("show", "standing")
    show = show if show in holds.SHOWS else "standing"
    found = holds.list_holds(show, clock.local_today(), clock.now())
    return render_template(
        "dunning/index.html",
        holds=found,
        show=show,
        today=clock.local_today(),
        reasons=REASONS,
        lift_form=LiftForm(formdata=None),
    )


@bp.post("/invoices/<int:invoice_id>/hold")
def hold_invoice(invoice_id: int):
    invoice = db.get_or_404(Invoice, invoice_id)
    back = _back(url_for("invoices.detail", invoice_id=invoice.id, _anchor="holds"))

    def save(data):
        holds.hold_documents([invoice.id], actor=_actor(), today=clock.local_today(), **data)

    title = _("Put %(number)s on hold", number=invoice.number)
    return _change(HoldForm(), save, _("On hold."), back, title, action=request.path)


@bp.post("/customers/<int:customer_id>/hold")
def hold_customer(customer_id: int):
    customer = db.get_or_404(Customer, customer_id)
    back = _back(url_for("customers.detail", customer_id=customer.id, _anchor="holds"))

    def save(data):
        holds.hold_customer(customer.id, actor=_actor(), today=clock.local_today(), **data)

    title = _("Put %(name)s on hold", name=customer.name)
    return _change(HoldForm(), save, _("On hold."), back, title, action=request.path)


@bp.post("/holds/selection")
def hold_selection():
    """The invoice list's "Put on hold" for the documents ticked, after its form."""
    ids = [int(v) for v in request.form.getlist("ids") if v.isascii() and v.isdigit()]
    back = _back(url_for("invoices.index"))
    form = HoldForm()
    if not ids or len(ids) > holds.MAX_SELECTED:
        flash(_("Select between 1 and %(max)s documents.", max=holds.MAX_SELECTED), "error")
        return redirect(back)
    placed: list = []

    def save(data):
        placed.extend(holds.hold_documents(ids, actor=_actor(), today=clock.local_today(), **data))

    def finished():
        flash(ngettext("%(num)s document on hold.", "%(num)s documents on hold.", len(placed)))
        return redirect(back)

    def page(status: int, failed=None):
        return selection_page(ids, back, failed or form, status)

    return form_change(form, save, finished, page)


def selection_page(ids: list[int], back: str, form: HoldForm | None = None, status: int = 200):
    """The form that holds the documents ticked in the invoice list (the list posts here)."""
    invoices = db.session.scalars(
        db.select(Invoice).where(Invoice.id.in_(ids)).order_by(Invoice.id)
    )
    page = render_template(
        "dunning/hold_selection.html",
        form=form or HoldForm(formdata=None),
        invoices=list(invoices),
        back=back,
    )
    return page, status


def lift_selection(ids: list[int]) -> str:
    """The invoice list's "Lift holds": what it did, for the flash."""
    lifted = holds.lift_documents(ids, _actor())
    return ngettext("%(num)s hold lifted.", "%(num)s holds lifted.", lifted)


@bp.post("/holds/<int:hold_id>/lift")
def lift(hold_id: int):
    hold = db.get_or_404(Hold, hold_id)
    if hold.invoice_id:
        default = url_for("invoices.detail", invoice_id=hold.invoice_id, _anchor="holds")
    else:
        default = url_for("customers.detail", customer_id=hold.customer_id, _anchor="holds")
    back = _back(default)

    def save(data):
        holds.lift(hold.id, _actor(), **data)

    return _change(
        LiftForm(), save, _("Hold lifted."), back, _("Lift the hold"), action=request.path
    )


@bp.post("/invoices/<int:invoice_id>/notes")
def note_invoice(invoice_id: int):
    invoice = db.get_or_404(Invoice, invoice_id)
    back = _back(url_for("invoices.detail", invoice_id=invoice.id, _anchor="notes"))

    def save(data):
        notes.note_document(invoice.id, actor=_actor(), **data)

    title = _("A note on %(number)s", number=invoice.number)
    return _change(NoteForm(), save, _("Note kept."), back, title, action=request.path)


@bp.post("/customers/<int:customer_id>/notes")
def note_customer(customer_id: int):
    customer = db.get_or_404(Customer, customer_id)
    back = _back(url_for("customers.detail", customer_id=customer.id, _anchor="notes"))

    def save(data):
        notes.note_customer(customer.id, actor=_actor(), **data)

    title = _("A note on %(name)s", name=customer.name)
    return _change(NoteForm(), save, _("Note kept."), back, title, action=request.path)


# -- what the document and customer pages show -------------------------------------------

REASONS = wording.REASONS


def document_panel(invoice: Invoice) -> dict:
    """What the document page shows of dunning: its holds and notes' forms, and why it is
    not chased or debited today."""
    today = clock.local_today()
    return {
        "holds": holds.holds_of_invoice(invoice),
        "hold_form": HoldForm(formdata=None),
        "lift_form": LiftForm(formdata=None),
        "note_form": NoteForm(formdata=None),
        "not_chased": policy.chase_blocker(invoice, today),
        "not_debited": policy.debit_blocker(invoice, today),
        "today": today,
        "reasons": REASONS,
    }


def customer_panel(customer: Customer) -> dict:
    """What the customer page shows of dunning: holds, notes and their forms."""
    return {
        "holds": holds.holds_of_customer(customer.id),
        "notes": notes.notes_of_customer(customer.id),
        "hold_form": HoldForm(formdata=None),
        "lift_form": LiftForm(formdata=None),
        "note_form": NoteForm(formdata=None),
        "today": clock.local_today(),
        "reasons": REASONS,
    }
