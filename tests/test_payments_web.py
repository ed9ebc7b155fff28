"""A document's payments on its page, an admin's "mark as paid" and "archive", the
Teamleader column of the overview, and the sync problems page."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from collector.core.columns import utcnow
from collector.documents import callback_endpoints, callbacks, ledger
from collector.documents.models import (
    CallbackDelivery,
    CallbackStatus,
    DocumentKind,
    DocumentMail,
    DocumentMailKind,
    DocumentMailStatus,
    Invoice,
    InvoiceState,
    Payment,
    PaymentKind,
    PaymentSource,
)
from collector.extensions import db
from collector.payments.models import OnlinePayment
from collector.runtime import setup as runtime_setup
from collector.teamleader.models import SyncStatus, TeamleaderSync
from tests.conftest import csrf_token
from tests.support.factories import make_invoice

PAID_AT = datetime(2026, 11, 5, 10, 30, tzinfo=UTC)
PROBLEMS = "/sync-problems/"
HOOK = "https://erp.example/hooks"
ROW = re.compile(r'<tr data-invoice="(\d+)"')


def pay(invoice: Invoice, amount: str = "21.00", key: str = "provider:tr_1") -> Payment:
    payment = ledger.record_payment(
        invoice,
        key=key,
        amount=Decimal(amount),
        occurred_at=PAID_AT,
        source=PaymentSource.PROVIDER,
        actor="provider",
        reference=key.split(":")[1],
    )
    db.session.commit()
    return payment


def post(client, path: str, data: dict, form_path: str):
    """POST ``data`` with the CSRF token read from the page at ``form_path``."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client, form_path)})


def reload(invoice: Invoice) -> Invoice:
    db.session.expire_all()
    return db.session.get(Invoice, invoice.id)


def timeline(invoice: Invoice) -> str:
    return " ".join(e.message or "" for e in reload(invoice).events)


def sync_row(invoice: Invoice, status: SyncStatus, error: str | None = None) -> TeamleaderSync:
    sync = TeamleaderSync(
        invoice=invoice, wanted=1, done=1, held=Decimal("0.00"), status=status, last_error=error
    )
    db.session.add(sync)
    db.session.commit()
    return sync


@pytest.fixture
def invoice(app):
    return make_invoice(number="2026/0042")


# -- the detail page -----------------------------------------------------------------------


def test_the_ledger_with_a_cancelled_row_struck_through(viewer_client, invoice):
    payment = pay(invoice)
    chargeback = ledger.record_reversal(
        payment,
        key="provider:chb_1",
        kind=PaymentKind.CHARGEBACK,
        amount=Decimal("21.00"),
        occurred_at=PAID_AT + timedelta(days=3),
        actor="provider",
        reason_code="AM04",
        reason="Insufficient funds",
        reference="chb_1",
    )
    ledger.cancel_entry(chargeback, "Chargeback reversed by the bank", actor="provider")
    db.session.add(
        OnlinePayment(
            invoice=invoice,
            provider_id="tr_1",
            amount=Decimal("21.00"),
            currency="EUR",
            status="paid",
            paid_at=PAID_AT,
        )
    )
    db.session.commit()

    page = viewer_client.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    paid = re.search(rf'<tr data-payment="{payment.id}" data-counts="yes">(.*?)</tr>', page, re.S)
    assert paid, page
    assert "online" in paid.group(1) and "payment" in paid.group(1)
    assert "€21.00" in paid.group(1) and "<code>tr_1</code>" in paid.group(1)
    assert "5 Nov 2026, 11:30" in paid.group(1)  # 10:30 UTC, shown in Brussels time
    cancelled = re.search(
        rf'<tr data-payment="{chargeback.id}" data-counts="no" class="cancelled">(.*?)</tr>',
        page,
        re.S,
    )
    assert cancelled, page
    row = cancelled.group(1)
    assert "<s>-€21.00</s>" in row and "<s>chargeback</s>" in row
    assert "Insufficient funds (AM04)" in row and "Chargeback reversed by the bank" in row
    assert paid.start() < cancelled.start()  # newest last
    assert '<tr data-online-payment="tr_1">' in page
    assert "data-sync-state>waiting<" in page  # owed to Teamleader, not sent yet
    # A viewer sees no change forms.
    assert "Mark as paid</button>" not in page and "Archive</button>" not in page


def test_admins_get_the_forms_the_state_allows(admin_client, invoice):
    page = admin_client.get(f"/invoices/{invoice.id}").get_data(as_text=True)
    assert 'name="paid-reason"' in page and 'name="paid-paid_at"' in page
    assert 'name="archive-reason"' in page
    assert "No payments yet." in page

    paid = make_invoice(state=InvoiceState.PAID, amount_due=Decimal("0.00"))
    page = admin_client.get(f"/invoices/{paid.id}").get_data(as_text=True)
    assert 'name="paid-reason"' not in page and 'name="archive-reason"' in page

    archived = make_invoice(state=InvoiceState.ARCHIVED)
    page = admin_client.get(f"/invoices/{archived.id}").get_data(as_text=True)
    assert 'name="paid-reason"' not in page and 'name="archive-reason"' not in page

    note = make_invoice(kind=DocumentKind.CREDIT_NOTE)
    page = admin_client.get(f"/invoices/{note.id}").get_data(as_text=True)
    assert 'name="paid-reason"' not in page and "<h2>Payments</h2>" not in page


# -- mark as paid and archive ----------------------------------------------------------------


def test_an_admin_marks_it_paid_and_teamleader_is_owed_it(admin_client, invoice, admin):
    path = f"/invoices/{invoice.id}"
    data = {"paid-reason": "Paid in cash at the desk", "paid-paid_at": "2026-11-10"}
    response = post(admin_client, f"{path}/mark-paid", data, path)

    assert response.status_code == 302 and response.location.endswith(path)
    invoice = reload(invoice)
    assert invoice.state == InvoiceState.PAID and invoice.amount_due == Decimal("0.00")
    [payment] = invoice.payments
    assert payment.source == PaymentSource.MANUAL and payment.amount == Decimal("121.00")
    assert payment.occurred_at == datetime(2026, 11, 10, 12, tzinfo=UTC)
    assert payment.actor == f"user:{admin.email}"
    assert "Paid in cash at the desk" in timeline(invoice)
    assert invoice.teamleader_sync.status == SyncStatus.PENDING
    assert invoice.teamleader_sync.outstanding

    page = admin_client.get(path).get_data(as_text=True)
    assert "Marked as paid." in page and "marked as paid" in page


def test_a_viewer_cannot_mark_it_paid_or_archive_it(viewer_client, invoice):
    path = f"/invoices/{invoice.id}"
    paid = post(viewer_client, f"{path}/mark-paid", {"paid-reason": "cash"}, path)
    archived = post(viewer_client, f"{path}/archive", {"archive-reason": "lost"}, path)

    assert paid.status_code == 403 and archived.status_code == 403
    invoice = reload(invoice)
    assert invoice.state == InvoiceState.BOOKED and invoice.payments == []
    assert invoice.teamleader_sync is None


@pytest.mark.parametrize(
    ("action", "data", "message"),
    [
        ("mark-paid", {"paid-reason": "  "}, "Give a reason"),
        ("mark-paid", {"paid-reason": "x" * 301}, "under 300 characters"),
        ("mark-paid", {"paid-reason": "cash", "paid-paid_at": "yesterday"}, "Not a valid date"),
        ("mark-paid", {"paid-reason": "cash", "paid-paid_at": "2999-01-01"}, "in the future"),
        ("archive", {"archive-reason": ""}, "Give a reason"),
    ],
)
def test_a_refused_form_comes_back_with_its_error(admin_client, invoice, action, data, message):
    path = f"/invoices/{invoice.id}"
    response = post(admin_client, f"{path}/{action}", data, path)

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and 'class="error" data-field=' in page
    invoice = reload(invoice)
    assert invoice.state == InvoiceState.BOOKED and invoice.payments == []


def test_an_admin_archives_it(admin_client, invoice):
    path = f"/invoices/{invoice.id}"
    response = post(admin_client, f"{path}/archive", {"archive-reason": "Customer bankrupt"}, path)

    assert response.status_code == 302
    invoice = reload(invoice)
    assert invoice.state == InvoiceState.ARCHIVED and invoice.payments == []
    assert "Archived: Customer bankrupt" in timeline(invoice)


def test_a_state_that_forbids_it_is_a_409_with_the_reason(admin_client, app):
    paid = make_invoice(number="2026/0099", state=InvoiceState.PAID, amount_due=Decimal("0"))
    path = f"/invoices/{paid.id}"
    response = post(admin_client, f"{path}/mark-paid", {"paid-reason": "cash"}, path)

    assert response.status_code == 409
    assert "2026/0099 is PAID: nothing to mark as paid." in response.get_data(as_text=True)
    assert reload(paid).payments == []

    archived = make_invoice(state=InvoiceState.ARCHIVED)
    path = f"/invoices/{archived.id}"
    response = post(admin_client, f"{path}/archive", {"archive-reason": "again"}, path)
    assert response.status_code == 409 and "archived already" in response.get_data(as_text=True)


def test_an_unknown_document_is_404(admin_client, app):
    response = post(admin_client, "/invoices/4242/mark-paid", {"paid-reason": "cash"}, "/")
    assert response.status_code == 404


# -- the overview ------------------------------------------------------------------------------


def test_the_overview_shows_the_teamleader_sync_and_filters_problems(admin_client, app):
    refused = make_invoice(invoice_date=date(2026, 11, 1))
    sync_row(refused, SyncStatus.FAILED, "payment_method_id is invalid")
    waiting = make_invoice(invoice_date=date(2026, 11, 2))
    pay(waiting)
    never = make_invoice(invoice_date=date(2026, 11, 3))

    page = admin_client.get("/invoices/").get_data(as_text=True)
    assert "<th>Teamleader</th>" in page
    for document, shown in ((refused, "refused"), (waiting, "waiting"), (never, "none")):
        row = re.search(rf'<tr data-invoice="{document.id}">.*?</tr>', page, re.S).group(0)
        assert f'data-teamleader="{shown}"' in row
    assert '<span class="badge badge-refused">refused</span>' in page

    filtered = admin_client.get("/invoices/?teamleader=problems").get_data(as_text=True)
    assert [int(i) for i in ROW.findall(filtered)] == [refused.id]
    assert admin_client.get("/invoices/?teamleader=maybe").status_code == 400


def test_the_overview_reads_the_sync_of_a_page_in_one_query(admin_client, app):
    def statements_for_overview() -> int:
        seen = []

        def count(*_args):
            seen.append(1)

        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert admin_client.get("/invoices/").status_code == 200
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    for n in range(2):
        sync_row(make_invoice(), SyncStatus.FAILED, f"refused {n}")
    few = statements_for_overview()
    for _ in range(8):
        sync_row(make_invoice(), SyncStatus.SYNCED)
    assert statements_for_overview() == few


# -- sync problems -----------------------------------------------------------------------------


@pytest.fixture
def problems(app):
    """One of each: a sync Teamleader refused, a callback given up on, a failed email."""
    refused = make_invoice(number="2026/0101")
    sync = sync_row(refused, SyncStatus.FAILED, "Teamleader: payment_method_id is invalid")
    endpoint, _ = callback_endpoints.add_endpoint(HOOK, "ERP", None, runtime_setup.cipher(app))
    called = make_invoice(number="2026/0102")
    callbacks.queue_state_change(
        called, previous="BOOKED", state="PAID", reason="paid", actor="t", occurred_at=utcnow()
    )
    db.session.commit()
    delivery = db.session.scalars(sa.select(CallbackDelivery)).one()
    delivery.status, delivery.attempts, delivery.last_error = CallbackStatus.FAILED, 7, "HTTP 500"
    mailed = make_invoice(number="2026/0103")
    mail = DocumentMail(
        invoice=mailed,
        kind=DocumentMailKind.INVITATION,
        key="invitation",
        status=DocumentMailStatus.FAILED,
        attempts=5,
        recipient="billing@customer.example",
        error="550 mailbox unavailable",
    )
    db.session.add(mail)
    db.session.commit()
    overpaid = make_invoice(number="2026/0104")
    pay(overpaid, "121.00", "provider:tr_a")
    pay(overpaid, "121.00", "provider:tr_b")
    return {"sync": sync, "delivery": delivery, "mail": mail, "endpoint": endpoint}


def test_the_sync_problems_page_lists_all_four(viewer_client, problems):
    page = viewer_client.get(PROBLEMS).get_data(as_text=True)

    sync, delivery, mail = problems["sync"], problems["delivery"], problems["mail"]
    assert f'<tr data-sync="{sync.id}" data-status="failed">' in page
    assert f'href="/invoices/{sync.invoice_id}">2026/0101</a>' in page
    assert "payment_method_id is invalid" in page and "badge-refused" in page
    assert f'<tr data-delivery="{delivery.id}">' in page
    assert HOOK in page and "invoice.state_changed" in page
    assert ">2026/0102</a>" in page and "HTTP 500" in page
    assert f'<tr data-mail="{mail.id}" data-status="failed">' in page
    assert f'href="/invoices/{mail.invoice_id}">2026/0103</a>' in page
    assert "550 mailbox unavailable" in page and "billing@customer.example" in page
    assert re.search(
        r'<tr data-overpayment="\d+">\s*<td><a href="/invoices/\d+#overpayment">'
        r"2026/0104</a>",
        page,
    )
    assert "€121.00" in page
    assert "Nothing here." not in page
    # Viewers read; only admins get the buttons.
    assert "Send again" not in page and ">Retry<" not in page


def test_an_empty_page_says_so_and_the_nav_links_to_it(admin_client):
    page = admin_client.get(PROBLEMS).get_data(as_text=True)
    assert page.count("Nothing here.") == 4
    assert 'href="/sync-problems/" aria-current="page">Sync problems</a>' in page
    # The link in the admins' email has no trailing slash.
    assert admin_client.get("/sync-problems").status_code in (301, 308)


def test_send_again_owes_teamleader_the_document_again(admin_client, problems):
    sync = problems["sync"]
    page = admin_client.get(PROBLEMS).get_data(as_text=True)
    assert "Send again" in page and ">Retry<" in page

    response = post(admin_client, f"{PROBLEMS}teamleader/{sync.id}/retry", {}, PROBLEMS)

    assert response.status_code == 302 and response.location.endswith(PROBLEMS)
    db.session.expire_all()
    sync = db.session.get(TeamleaderSync, sync.id)
    assert sync.status == SyncStatus.PENDING and sync.outstanding and sync.last_error is None
    page = admin_client.get(PROBLEMS).get_data(as_text=True)
    assert "2026/0101 is sent to Teamleader again." in page
    assert f'data-sync="{sync.id}"' not in page


def test_send_again_from_the_document_page_comes_back_to_it(admin_client, app):
    invoice = make_invoice()
    sync = sync_row(invoice, SyncStatus.SKIPPED, "Strict mode is not confirmed")
    path = f"/invoices/{invoice.id}"
    page = admin_client.get(path).get_data(as_text=True)
    assert "data-sync-state>not sent (Strict mode is not confirmed)<" in page
    assert "Send to Teamleader again" in page

    response = post(
        admin_client, f"{PROBLEMS}teamleader/{sync.id}/retry", {"back": "invoice"}, path
    )

    assert response.status_code == 302 and response.location.endswith(path)
    db.session.expire_all()
    assert db.session.get(TeamleaderSync, sync.id).status == SyncStatus.PENDING


def test_a_viewer_cannot_send_again(viewer_client, problems):
    sync, delivery = problems["sync"], problems["delivery"]
    for path in (f"teamleader/{sync.id}/retry", f"callbacks/{delivery.id}/retry"):
        assert post(viewer_client, PROBLEMS + path, {}, PROBLEMS).status_code == 403
    db.session.expire_all()
    assert db.session.get(TeamleaderSync, sync.id).status == SyncStatus.FAILED
    assert db.session.get(CallbackDelivery, delivery.id).status == CallbackStatus.FAILED


def test_retry_a_given_up_callback(admin_client, problems):
    delivery = problems["delivery"]
    response = post(admin_client, f"{PROBLEMS}callbacks/{delivery.id}/retry", {}, PROBLEMS)

    assert response.status_code == 302 and response.location.endswith(PROBLEMS)
    db.session.expire_all()
    assert db.session.get(CallbackDelivery, delivery.id).status == CallbackStatus.PENDING
    assert post(admin_client, f"{PROBLEMS}teamleader/4242/retry", {}, PROBLEMS).status_code == 404
    assert post(admin_client, f"{PROBLEMS}callbacks/4242/retry", {}, PROBLEMS).status_code == 404
