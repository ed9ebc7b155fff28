"""What the bank's answer does to a collection and its document: settled, rejected,
returned or refunded — each once, however often the answer arrives."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from collector.direct_debit import collection_outcomes, debits
from collector.direct_debit.models import CollectionStatus
from collector.documents import timeline
from collector.documents.models import InvoiceState, Payment, PaymentKind, PaymentSource
from collector.extensions import db
from collector.teamleader.models import SyncStatus
from tests.support.factories import make_collection, make_invoice, make_mandate

BOOKED_ON = date(2026, 12, 3)


@pytest.fixture(autouse=True)
def _fixed_day(clock):
    """This module's dates are written for mid-November 2026: make_invoice's documents
    are then dated 2026-11-01 and due 2026-12-01."""
    clock.set("2026-11-15T10:00:00Z")


BEFORE_DUE = date(2026, 11, 25)  # make_invoice's documents are due 2026-12-01
AFTER_DUE = date(2026, 12, 10)


def settled(collection):
    payment = collection_outcomes.settle(collection, collection.amount, BOOKED_ON, "bank file")
    db.session.commit()
    return payment


def state_changes(invoice) -> list[str]:
    return [e.message for e in invoice.events if e.kind == timeline.STATE_CHANGED]


def test_a_settled_collection_pays_its_document_once(app):
    collection = make_collection()
    invoice = collection.invoice
    payment = settled(collection)
    assert payment.key == f"bank:collection:{collection.end_to_end_id}"
    assert (payment.source, payment.amount) == (PaymentSource.BANK, Decimal("121.00"))
    assert payment.occurred_at == datetime(2026, 12, 3, 12, tzinfo=UTC)
    assert collection.status == CollectionStatus.SETTLED and collection.payment == payment
    assert collection.settled_at == payment.occurred_at
    assert invoice.state == InvoiceState.PAID and invoice.amount_due == 0
    # Teamleader is owed the payment, in the same transaction.
    assert invoice.teamleader_sync.wanted == 1
    assert invoice.teamleader_sync.status == SyncStatus.PENDING

    assert settled(collection) is None
    assert db.session.query(Payment).count() == 1
    assert invoice.teamleader_sync.wanted == 1


def test_a_rejected_first_collection_reopens_the_document_and_frees_the_mandate(app):
    collection = make_collection()
    mandate, invoice = collection.mandate, collection.invoice
    debits.refresh_use(mandate)
    db.session.commit()
    assert mandate.used and mandate.sequence_type == "RCUR"

    assert collection_outcomes.reject(collection, "AM04", "bank file", BEFORE_DUE)
    db.session.commit()
    assert collection.status == CollectionStatus.REJECTED
    assert (collection.reason_code, collection.reason) == (
        "AM04",
        "Rejected by the bank (AM04 insufficient funds)",
    )
    assert invoice.state == InvoiceState.BOOKED
    assert state_changes(invoice) == ["Rejected by the bank (AM04 insufficient funds)."]
    # No money moved: the next collection on the mandate is a first one again.
    assert not mandate.used and mandate.sequence_type == "FRST"
    assert mandate.last_collected_on == collection.collection_date  # it still dates it
    assert invoice.teamleader_sync is None  # nothing to tell Teamleader

    assert not collection_outcomes.reject(collection, "AM04", "bank file", BEFORE_DUE)
    db.session.commit()
    assert len(state_changes(invoice)) == 1


def test_a_reject_past_the_due_date_leaves_the_document_expired(app):
    collection = make_collection()
    collection_outcomes.reject(collection, "AC04", "bank file", AFTER_DUE)
    db.session.commit()
    assert collection.invoice.state == InvoiceState.EXPIRED
    assert collection.reason == "Rejected by the bank (AC04 account closed)"


def test_a_refund_after_settlement_reverses_the_payment_and_tells_teamleader(app):
    collection = make_collection(invoice=make_invoice(due_date=date(2020, 1, 1)))
    invoice = collection.invoice
    payment = settled(collection)

    returned = collection_outcomes.return_(
        collection, "MD06", Decimal("121.00"), date(2026, 12, 20), "bank file"
    )
    db.session.commit()
    assert returned
    reversal = db.session.query(Payment).filter_by(reverses_id=payment.id).one()
    assert reversal.key == f"bank:return:{collection.end_to_end_id}"
    assert (reversal.kind, reversal.amount, reversal.reason_code) == (
        PaymentKind.REFUND,
        Decimal("-121.00"),
        "MD06",
    )
    assert invoice.state == InvoiceState.EXPIRED and invoice.amount_due == Decimal("121.00")
    assert state_changes(invoice)[-1] == "Refunded (MD06): refund requested by the debtor."
    assert collection.status == CollectionStatus.RETURNED
    assert collection.reason == "Refunded (MD06 refund requested by the debtor)"
    assert invoice.teamleader_sync.wanted == 2  # the payment, then its removal

    assert not collection_outcomes.return_(
        collection, "MD06", Decimal("121.00"), date(2026, 12, 20), "bank file"
    )
    db.session.commit()
    assert db.session.query(Payment).count() == 2
    assert invoice.teamleader_sync.wanted == 2


def test_a_return_for_insufficient_funds_is_a_return_and_the_mandate_stays_used(app):
    not_due = make_invoice(due_date=date(2099, 1, 1), state=InvoiceState.PENDING)
    collection = make_collection(invoice=not_due)
    settled(collection)
    collection_outcomes.return_(collection, "AM04", Decimal("121.00"), BOOKED_ON, "bank file")
    db.session.commit()
    reversal = db.session.query(Payment).filter(Payment.amount < 0).one()
    assert reversal.kind == PaymentKind.RETURN
    assert collection.reason == "Returned by the bank (AM04 insufficient funds)"
    assert collection.invoice.state == InvoiceState.BOOKED
    assert collection.mandate.used  # it settled once: the next one is RCUR


def test_a_return_for_a_collection_never_seen_settled_is_a_reject(app):
    collection = make_collection()
    changed = collection_outcomes.return_(
        collection, "MS02", Decimal("121.00"), BOOKED_ON, "bank file", BEFORE_DUE
    )
    db.session.commit()
    assert changed and collection.status == CollectionStatus.REJECTED
    assert collection.reason == "Rejected by the bank (MS02 refused by the debtor)"
    assert collection.invoice.state == InvoiceState.BOOKED
    assert db.session.query(Payment).count() == 0


def test_a_settled_collection_is_not_rejected_and_a_rejected_one_not_settled(app):
    paid = make_collection()
    settled(paid)
    assert not collection_outcomes.reject(paid, "AM04", "bank file", BEFORE_DUE)
    assert paid.status == CollectionStatus.SETTLED

    refused = make_collection(mandate=make_mandate())
    collection_outcomes.reject(refused, "AM04", "bank file", BEFORE_DUE)
    assert settled(refused) is None
    assert refused.status == CollectionStatus.REJECTED
    assert refused.invoice.state == InvoiceState.BOOKED


def test_an_unknown_or_missing_code_is_said_plainly(app):
    collection = make_collection()
    collection_outcomes.reject(collection, None, "bank file", BEFORE_DUE)
    assert collection.reason == "Rejected by the bank (no reason given)"
    other = make_collection()
    collection_outcomes.reject(other, "ZZ99", "bank file", BEFORE_DUE)
    assert other.reason == "Rejected by the bank (ZZ99 no description known for this code)"
