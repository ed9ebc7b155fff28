"""Payments: money received and what took it back, as one list the finance team works —
sorted, searched, filtered, totalled per currency and downloadable as CSV."""

from contextlib import suppress

from flask import Blueprint, request

from collector.core.errors import NotFound
from collector.direct_debit.views.lists import csv_download, worked_list
from collector.documents import customers, payment_export, payment_list
from collector.documents.models import Customer, PaymentKind, PaymentSource
from collector.runtime.views import list_args, protect
from collector.web.invoice_detail import KIND_LABELS, SOURCE_LABELS

bp = protect(Blueprint("payments", __name__, url_prefix="/payments"))


@bp.get("/")
def index():
    return worked_list(
        "payments/index.html",
        payment_list.parse_query,
        payment_list.list_payments,
        payment_list.SORTS.default,
        kinds={kind: KIND_LABELS[kind] for kind in PaymentKind},
        channels={source: SOURCE_LABELS[source] for source in PaymentSource},
        currencies=payment_list.currencies(),
        customer=_filtered_customer(),
        without_customer={k: v for k, v in list_args().items() if k != "customer_id"},
    )


@bp.get("/export.csv")
def export():
    """The filtered, sorted list, every page of it, as a CSV download."""
    return csv_download(
        payment_list.parse_query, payment_list.export_rows, payment_export.payments_csv, "payments"
    )


def _filtered_customer() -> Customer | None:
    """The customer the list is narrowed to, to name them; a bad id is the filter's error."""
    given = request.args.get("customer_id", "").strip()
    if given.isdigit() and int(given) < 2**31:
        with suppress(NotFound):
            return customers.get_customer(int(given))
    return None
