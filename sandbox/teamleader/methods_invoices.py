"""``invoices.*`` and ``creditNotes.*`` (reference §6, §7)."""

from __future__ import annotations

import operator
import time

from . import errors, files, operations, views
from .listing import (
    Filter,
    apply_filters,
    customer_filter,
    date_filter,
    equals_filter,
    ids_filter,
    includes,
    link_filter,
    paginate,
    sort,
    updated_since_filter,
)
from .registry import Call, method

INVOICE_STATUSES = ("draft", "outstanding", "matched")
INVOICE_FORMATS = ("pdf", "ubl/e-fff", "ubl/peppol_bis_3")
CREDIT_NOTE_FORMATS = ("pdf", "ubl/e-fff")


def _status_filter() -> Filter:
    # status takes an array only, and only draft|outstanding|matched: "paid"/"booked" are
    # invalid since API version 2019-01-24 (reference §6.1, pitfall 6).
    def parse(value: object, field: str) -> set[str]:
        return set(errors.as_enum_list(value, field, INVOICE_STATUSES))

    return Filter(parse, lambda r, statuses: r["status"] in statuses)


def _term_filter() -> Filter:
    def matches(invoice: dict, term: str) -> bool:
        fields = ("invoice_number", "purchase_order_number", "payment_reference")
        haystack = [invoice.get(f) or "" for f in fields] + [invoice["invoicee"]["name"]]
        return any(term.lower() in text.lower() for text in haystack)

    return Filter(errors.as_string, matches)


INVOICE_FILTERS = {
    "ids": ids_filter(),
    "term": _term_filter(),
    "invoice_number": equals_filter("invoice_number"),
    "department_id": link_filter("department"),
    "deal_id": link_filter("deal"),
    "project_id": link_filter("project"),
    "subscription_id": link_filter("subscription"),
    "status": _status_filter(),
    "updated_since": updated_since_filter(),
    "purchase_order_number": equals_filter("purchase_order_number"),
    "payment_reference": equals_filter("payment_reference"),
    # Both bounds inclusive (reference §6.3, teamleadercrm/api PR 621).
    "invoice_date_after": date_filter("invoice_date", operator.ge),
    "invoice_date_before": date_filter("invoice_date", operator.le),
    "customer": customer_filter(lambda r: r["invoicee"]["customer"]),
}
CREDIT_NOTE_FILTERS = {
    "ids": ids_filter(),
    "department_id": link_filter("department"),
    "updated_since": updated_since_filter(),
    "invoice_id": link_filter("invoice"),
    "project_id": link_filter("project"),
    "customer": customer_filter(lambda r: r["invoicee"]["customer"]),
    # After is inclusive, before is EXCLUSIVE, unlike invoices (reference §7, pitfall 7).
    "credit_note_date_after": date_filter("credit_note_date", operator.ge),
    "credit_note_date_before": date_filter("credit_note_date", operator.lt),
}


def _number_key(invoice: dict) -> tuple[int, int] | None:
    """``"2026 / 17"`` sorts as (2026, 17), so 10 comes after 9."""
    number = invoice["invoice_number"]
    if number is None:
        return None
    year, _, counter = number.partition(" / ")
    return int(year), int(counter)


INVOICE_SORTS = {"invoice_number": _number_key, "invoice_date": lambda r: r["invoice_date"]}


@method("invoices.list")
def invoices_list(call: Call) -> dict:
    """Invoices; no custom fields, payments or payment term (fetch ``.info`` for those).

    Without a status filter drafts are listed too; the sort order defaults to ``desc``
    as in the portal/spec (the Blueprint said ``asc``: reference §3, always send it).
    """
    extra = includes(call.body)
    with call.store.lock:
        rows = apply_filters(call.store.data.invoices.values(), call.body, INVOICE_FILTERS)
        rows = sort(rows, call.body, INVOICE_SORTS, [("invoice_number", "desc")], "desc")
        return {"data": [views.invoice_list_item(r, extra) for r in paginate(rows, call.body)]}


@method("invoices.info")
def invoices_info(call: Call) -> dict:
    """One invoice in full."""
    extra = includes(call.body)
    with call.store.lock:
        return {"data": views.invoice_info(call.record(call.store.data.invoices), extra)}


@method("invoices.download")
def invoices_download(call: Call) -> dict:
    """A short-lived location of the rendered document (reference §6.4)."""
    fmt = errors.as_enum(errors.require(call.body, "format"), "format", INVOICE_FORMATS)
    with call.store.lock:
        invoice = call.record(call.store.data.invoices)
    return {"data": files.issue(call.emulator, "invoice", invoice["id"], fmt, call.file_url)}


@method("invoices.registerPayment")
def invoices_register_payment(call: Call) -> None:
    """Body ``{id, payment: {amount, currency}, paid_at, payment_method_id?}`` → 204."""
    received_at = time.time()
    body = call.body
    ident = errors.as_string(errors.require(body, "id"), "id")
    payment = errors.as_object(errors.require(body, "payment"), "payment")
    amount = errors.as_amount(errors.require(payment, "amount", "payment."), "payment.amount")
    currency = errors.as_string(errors.require(payment, "currency", "payment."), "payment.currency")
    paid_at = errors.as_datetime(errors.require(body, "paid_at"), "paid_at")
    method_id = body.get("payment_method_id")
    if method_id is not None:
        errors.as_string(method_id, "payment_method_id")
    operations.register_payment(call.emulator, ident, amount, currency, paid_at, method_id)
    with call.store.lock:
        call.store.registrations.append(
            {"invoice_id": ident, "amount": str(amount), "received_at": received_at}
        )


@method("invoices.removePayments")
def invoices_remove_payments(call: Call) -> None:
    """Remove all payments of an invoice → 204."""
    operations.remove_payments(
        call.emulator, errors.as_string(errors.require(call.body, "id"), "id")
    )


@method("creditNotes.list")
def credit_notes_list(call: Call) -> dict:
    """Credit notes. The spec has no ``sort`` here, so a given one is ignored like any
    unknown key; the order is newest first."""
    with call.store.lock:
        rows = apply_filters(call.store.data.credit_notes.values(), call.body, CREDIT_NOTE_FILTERS)
        rows = sort(rows, {}, {"date": lambda r: r["credit_note_date"]}, [("date", "desc")])
        return {"data": [views.credit_note_list_item(r) for r in paginate(rows, call.body)]}


@method("creditNotes.info")
def credit_notes_info(call: Call) -> dict:
    """One credit note. The docs (BP, spec, portal) show ``data`` as a one-element *array*,
    most likely a documentation bug (reference §7); we answer with an object, as every
    other ``.info`` does. Clients should accept both."""
    with call.store.lock:
        return {"data": views.credit_note_info(call.record(call.store.data.credit_notes))}


@method("creditNotes.download")
def credit_notes_download(call: Call) -> dict:
    """A short-lived location of the credit note (pdf or ubl/e-fff)."""
    fmt = errors.as_enum(errors.require(call.body, "format"), "format", CREDIT_NOTE_FORMATS)
    with call.store.lock:
        note = call.record(call.store.data.credit_notes)
    return {"data": files.issue(call.emulator, "creditNote", note["id"], fmt, call.file_url)}
