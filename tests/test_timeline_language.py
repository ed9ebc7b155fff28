"""A document's history in the reader's language: the timeline, the payments' and the
direct debits' reasons are stored in English (the API and the logs read them) and shown in
French or Dutch, money as the reader writes it; a row written before its sentence was kept
is recognised by its English, and a text nobody knows is shown as it was written."""

from __future__ import annotations

import html
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import refresh

from collector.core.clock import local_today
from collector.core.columns import utcnow
from collector.core.formatting import format_date, money
from collector.direct_debit import collection_outcomes
from collector.documents import ledger, overpayments, timeline
from collector.documents.models import (
    DocumentMail,
    DocumentMailKind,
    InvoiceEvent,
    InvoiceState,
    PaymentKind,
    PaymentSource,
)
from collector.extensions import db
from collector.mail import invitations
from collector.payments import checkout
from collector.payments.models import OnlinePayment
from collector.runtime.wordings import says
from collector.teamleader import pdfs, shown
from collector.teamleader import wording as tl_wording
from collector.web import history
from tests.support.factories import make_collection, make_event, make_invoice

FRENCH = {"Accept-Language": "fr-BE"}
DUTCH = {"Accept-Language": "nl-BE"}
E2E = "PEETERS-E2E-0001"
NBSP = "\xa0"


@pytest.fixture
def returned(app):
    """An invoice of € 544.50 collected by direct debit, paid, then returned (AM04)."""
    amount = Decimal("544.50")
    invoice = make_invoice(state=InvoiceState.PENDING, total_incl_vat=amount, amount_due=amount)
    collection = make_collection(invoice=invoice, end_to_end_id=E2E)
    today = local_today()
    collection_outcomes.settle(collection, amount, today - timedelta(days=9), "bank")
    db.session.commit()
    collection_outcomes.return_(collection, "AM04", amount, today - timedelta(days=2), "bank")
    db.session.commit()
    return invoice


def events_of(invoice) -> dict[str, list[InvoiceEvent]]:
    # in the order they were written: PostgreSQL returns an unordered select in no set order
    rows = db.session.scalars(
        sa.select(InvoiceEvent)
        .where(InvoiceEvent.invoice_id == invoice.id)
        .order_by(InvoiceEvent.id)
    )
    found: dict[str, list[InvoiceEvent]] = {}
    for row in rows:
        found.setdefault(row.kind, []).append(row)
    return found


def page(client, invoice, headers=None) -> str:
    answer = client.get(f"/invoices/{invoice.id}", headers=headers or {})
    assert answer.status_code == 200
    return html.unescape(answer.get_data(as_text=True))


# -- what is stored stays English ------------------------------------------------------------


def test_the_stored_messages_are_the_english_they_always_were(returned):
    events = events_of(returned)
    assert [e.message for e in events[timeline.PAYMENT_RECEIVED]] == [
        f"Payment of €544.50 received (bank). Direct debit {E2E} collected."
    ]
    assert [e.message for e in events[timeline.PAYMENT_REVERSED]] == [
        "Returned by the bank (AM04): insufficient funds: €544.50 of the payment of €544.50."
    ]
    assert [e.message for e in events[timeline.STATE_CHANGED]] == [
        "Paid (bank).",
        "Returned by the bank (AM04): insufficient funds.",
    ]
    reasons = {p.kind: p.reason for p in returned.payments}
    assert reasons == {
        PaymentKind.PAYMENT: f"Direct debit {E2E} collected.",
        PaymentKind.RETURN: "insufficient funds",
    }
    # and each kept what it says, as machine values
    says = events[timeline.PAYMENT_REVERSED][0].details["says"]
    assert says["values"]["amount"] == {"amount": "544.50", "currency": "EUR"}


def test_other_ledger_sentences_keep_their_english(app):
    invoice = make_invoice(due_date=local_today() - timedelta(days=1))
    ledger.expire_overdue(local_today())
    payment = ledger.record_payment(
        invoice,
        key="p1",
        amount=Decimal("5.00"),
        occurred_at=invoice.created_at,
        source=PaymentSource.PROVIDER,
        actor="provider",
    )
    ledger.cancel_entry(payment, "Removed in Teamleader", actor="teamleader")
    ledger.archive(invoice, "Written off", actor="user:anne@example.com")
    db.session.commit()
    messages = [e.message for e in sorted(invoice.events, key=lambda e: e.id)]
    assert messages == [
        f"Due date {format_date(invoice.due_date)} passed.",
        "Payment of €5.00 received (online).",
        "Removed in Teamleader (€5.00).",
        "Archived: Written off",
    ]
    with app.test_request_context(headers=FRENCH):
        shown = [history.event_text(e) for e in sorted(invoice.events, key=lambda e: e.id)]
    assert shown == [
        f"Date d’échéance {format_date(invoice.due_date, locale='fr_BE')} dépassée.",
        f"Paiement de 5,00{NBSP}€ reçu (en ligne).",
        f"Removed in Teamleader (5,00{NBSP}€).",
        "Archivé : Written off",
    ]


def test_a_reject_keeps_its_english_and_says_it_in_french(app):
    collection = make_collection()
    collection_outcomes.reject(collection, "AM04", "bank", local_today())
    db.session.commit()
    (event,) = events_of(collection.invoice)[timeline.STATE_CHANGED]
    assert event.message == "Rejected by the bank (AM04 insufficient funds)."
    assert collection.reason == "Rejected by the bank (AM04 insufficient funds)"
    with app.test_request_context(headers=FRENCH):
        assert history.event_text(event) == "Rejeté par la banque (AM04 fonds insuffisants)."
        assert history.reason_text(collection.reason) == (
            "Rejeté par la banque (AM04 fonds insuffisants)"
        )


# -- the page --------------------------------------------------------------------------------


def test_the_invoice_page_tells_its_history_in_french(viewer_client, returned):
    french = page(viewer_client, returned, FRENCH)

    sum_ = f"544,50{NBSP}€"
    for sentence in (
        f"Paiement de {sum_} reçu (banque). Domiciliation {E2E} encaissée.",
        "Payé (banque).",
        f"Retourné par la banque (AM04) : fonds insuffisants : {sum_} du paiement de {sum_}.",
        "Retourné par la banque (AM04) : fonds insuffisants.",
        # the payments' and the direct debit's reasons
        f"Domiciliation {E2E} encaissée.",
        "fonds insuffisants (AM04)",
        "Retourné par la banque (AM04 fonds insuffisants)",
        "· la banque",
    ):
        assert sentence in french, sentence
    for row in db.session.scalars(sa.select(InvoiceEvent)):
        assert row.message not in french, row.message
    for english in ("insufficient funds", "€544.50", "Direct debit PEETERS", "· bank"):
        assert english not in french, english


def test_the_invoice_page_tells_its_history_in_dutch(viewer_client, returned):
    dutch = page(viewer_client, returned, DUTCH)

    sum_ = money(Decimal("544.50"), "EUR", locale="nl_BE")
    for sentence in (
        f"Betaling van {sum_} ontvangen (bank). Domiciliëring {E2E} geïnd.",
        "Betaald (bank).",
        f"Gestorneerd door de bank (AM04): onvoldoende saldo: {sum_} van de betaling van {sum_}.",
        "onvoldoende saldo (AM04)",
        "· de bank",
    ):
        assert sentence in dutch, sentence
    for row in db.session.scalars(sa.select(InvoiceEvent)):
        assert row.message not in dutch, row.message


def test_the_invoice_page_in_english_shows_what_was_stored(viewer_client, returned):
    english = page(viewer_client, returned)

    for row in db.session.scalars(sa.select(InvoiceEvent)):
        assert row.message in english, row.message
    assert "insufficient funds (AM04)" in english
    assert "Returned by the bank (AM04 insufficient funds)" in english


# -- rows written before their sentence was kept -------------------------------------------


def test_an_old_row_is_recognised_by_its_english_and_an_unknown_one_kept(viewer_client):
    invoice = make_invoice()
    for kind, message in (
        (timeline.PAYMENT_RECEIVED, "Payment of €1,250.25 received (online)."),
        (
            timeline.PAYMENT_REVERSED,
            "Charged back (MD06): refund requested by the debtor: €5.00 of the payment of "
            "€1,250.25.",
        ),
        (timeline.STATE_CHANGED, "Refunded."),
        (timeline.STATE_CHANGED, "Something nobody wrote (€3.00)"),
    ):
        make_event(invoice, kind=kind, message=message, actor="job:send_reminders")
    make_event(invoice, kind=timeline.IMPORTED, message="Imported, said by api", actor="api:ERP")

    french = page(viewer_client, invoice, FRENCH)
    big = money(Decimal("1250.25"), "EUR", locale="fr_BE")  # "1 250,25 €", narrow spaces
    for sentence in (
        f"Paiement de {big} reçu (en ligne).",
        "Rétrofacturé (MD06) : remboursement demandé par le débiteur : "
        f"5,00{NBSP}€ du paiement de {big}.",
        "Remboursé.",
        "Something nobody wrote (€3.00)",
        "Imported, said by api",
        "· une tâche planifiée",
        "· clé API ERP",
    ):
        assert sentence in french, sentence


def test_actors_are_named_in_the_readers_language(app):
    with app.test_request_context(headers=DUTCH):
        assert history.actor_text("system") == "het systeem"
        assert history.actor_text("teamleader") == "Teamleader"
        assert history.actor_text("user:anne@example.com") == "anne@example.com"
        assert history.actor_text("job:send_reminders") == "een geplande taak"
        assert history.actor_text("something else") == "something else"


# -- the other domains' events: Teamleader, paying online, mails, overpayments ---------------


def test_teamleader_pdf_and_sync_events_keep_their_english_and_read_in_french(app):
    invoice = make_invoice()
    pdfs.store_pdf(invoice, "pdfs/1.pdf", 12345, "system", utcnow())
    shown.note_payment_state(invoice, "matched", 0.0, None)
    ledger.settle(invoice, says(tl_wording.PAYMENTS_CHANGED), actor="teamleader")
    db.session.commit()
    messages = [e.message for e in sorted(invoice.events, key=lambda e: e.id)]
    assert messages == [
        "PDF fetched (12,345 bytes).",
        "Teamleader shows it matched, €0.00 due.",
        "Teamleader's payments changed.",
    ]
    with app.test_request_context(headers=FRENCH):
        french = [history.event_text(e) for e in sorted(invoice.events, key=lambda e: e.id)]
    assert french == [
        "PDF récupéré (12\u202f345 octets).",
        f"Teamleader l’affiche matched, 0,00{NBSP}€ dû.",
        "Les paiements dans Teamleader ont changé.",
    ]
    with app.test_request_context(headers=DUTCH):
        refresh()  # the locale is kept for the app context the test runs in
        assert history.event_text(invoice.events[0]) == "PDF opgehaald (12.345 bytes)."


def test_an_online_payment_and_its_overpayment_read_in_french_and_dutch(viewer_client):
    amount = Decimal("544.50")
    invoice = make_invoice(total_incl_vat=amount, amount_due=amount)
    online = OnlinePayment(
        invoice=invoice, provider_id="tr_peeters1", amount=amount, currency="EUR"
    )
    db.session.add(online)
    db.session.flush()
    checkout.apply(online.id, {"status": "failed"})
    overpayments.track(invoice, amount, actor="provider")
    overpayments.keep(invoice, "Credit for the next invoice", actor="user:anne@example.com")
    db.session.commit()
    messages = [e.message for e in sorted(invoice.events, key=lambda e: e.id)]
    assert messages == [
        "Online payment tr_peeters1 failed.",
        "Overpaid by €544.50: the payments exceed what was payable. Refund it or keep it.",
        "Overpayment of €544.50 kept: Credit for the next invoice",
    ]

    french = page(viewer_client, invoice, FRENCH)
    for sentence in (
        "Paiement en ligne tr_peeters1 échoué.",
        f"Payé en trop de 544,50{NBSP}€ : les paiements dépassent le montant à payer.",
        # the reason the person typed stays as it was typed
        f"Trop-perçu de 544,50{NBSP}€ gardé : Credit for the next invoice",
    ):
        assert sentence in french, sentence
    dutch = page(viewer_client, invoice, DUTCH)
    sum_ = money(amount, "EUR", locale="nl_BE")
    assert sum_ == f"€{NBSP}544,50"
    assert f"Teveelbetaling van {sum_} behouden: Credit for the next invoice" in dutch


def test_a_reminder_not_owed_keeps_its_english_and_reads_in_french(app):
    invoice = make_invoice(state=InvoiceState.PAID, amount_due=Decimal("0.00"))
    row = DocumentMail(invoice=invoice, kind=DocumentMailKind.REMINDER, key="reminder:1")
    db.session.add(row)
    db.session.flush()
    invitations.deliver(row.id, postman=None)
    (event,) = events_of(invoice)[timeline.MAIL_CANCELLED]
    assert event.message == "Reminder not sent: the document is PAID with €0.00 due."
    with app.test_request_context(headers=FRENCH):
        assert history.event_text(event) == (
            f"Rappel non envoyé : le document est payé avec 0,00{NBSP}€ dû."
        )


def test_old_rows_of_the_other_domains_are_recognised_by_their_english(app):
    invoice = make_invoice()
    olds = {
        "PDF fetched (12,345 bytes).": "PDF récupéré (12\u202f345 octets).",
        "Archived: fully credited.": "Archivé : entièrement crédité.",
        "Invitation not sent: the document is EXPIRED with €5.00 due.": (
            f"Invitation non envoyée : le document est en retard avec 5,00{NBSP}€ dû."
        ),
        "Credited €50.00 in total; still due €1,250.25.": (
            f"Crédité de 50,00{NBSP}€ au total ; reste dû : 1\u202f250,25{NBSP}€."
        ),
        "Online payment tr_abc expired.": "Paiement en ligne tr_abc expiré.",
        "Overpaid by €131.00 now (was €121.00).": (
            f"Payé en trop de 131,00{NBSP}€ désormais (était 121,00{NBSP}€)."
        ),
        "Invitation sent to anne@example.com, with the PDF. It announces the direct debit on "
        "3 Mar 2026.": (
            "Invitation envoyée à anne@example.com, avec le PDF. Elle annonce la domiciliation "
            f"du {format_date(date(2026, 3, 3), locale='fr_BE')}."
        ),
        "Payment removed in Teamleader (€5.00).": (
            f"Paiement supprimé dans Teamleader (5,00{NBSP}€)."
        ),
        "Not sent to Teamleader: Teamleader is not connected.": (
            "Pas envoyé à Teamleader : Teamleader n’est pas connecté."
        ),
        "Teamleader refused the payment status: 422 Unprocessable.": (
            "Teamleader a refusé le statut de paiement : 422 Unprocessable."
        ),
    }
    events = [make_event(invoice, kind=timeline.IMPORTED, message=old) for old in olds]
    with app.test_request_context(headers=FRENCH):
        assert [history.event_text(e) for e in events] == list(olds.values())
