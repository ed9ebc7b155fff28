"""A finance team's receivables on one morning, for the browser journey test.

Eight Belgian customers with names and Teamleader ids, invoices owed at the edges of
every aging bucket (due today, 1, 30, 31, 60, 61, 90 and 91 days ago, and none), a
partly paid invoice, a linked and an unapplied credit note, a paid and an archived
invoice, a direct debit under way, one the bank returned (MS02, refused by the debtor: it
waits for a person, where an AM04 would be retried on its own) and a direct-debit
customer without a mandate. Everything is dated from the test clock's today, and money
moves through the project's own ledger and collection outcomes, as in production.

``Morning`` keeps what was seeded in plain terms, so the test checks the pages against
this file rather than against the code that drew them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from collector.core.clock import local_today
from collector.direct_debit import collection_outcomes
from collector.direct_debit.models import (
    Collection,
    CollectionRun,
    CollectionRunStatus,
    Mandate,
)
from collector.documents import ledger
from collector.documents.models import (
    Customer,
    DocumentKind,
    Invoice,
    InvoiceState,
    PaymentSource,
)
from collector.extensions import db
from collector.teamleader.models import TeamleaderConnection
from tests.support.factories import (
    make_collection,
    make_customer,
    make_invoice,
    make_mandate,
    make_profile,
)

D = Decimal
VAT = D("1.21")
NAMESPACE = uuid.UUID("6f1c9a52-3d0e-4c1b-9a57-6d2f0e8b4a10")
# The dashboard's aging buckets: key → (least, most days overdue); None: no bound.
BUCKETS = {
    "current": (None, 0),
    "1-30": (1, 30),
    "31-60": (31, 60),
    "61-90": (61, 90),
    "90+": (91, None),
}
CUSTOMERS = {  # key → (name, city, language)
    "cygne": ("Brasserie Le Cygne SRL", "Bruxelles", "fr"),
    "hoecke": ("Bakkerij Van Hoecke BV", "Gent", "nl"),
    "architects": ("Van Hoecke Architecten BV", "Gent", "nl"),
    "peeters": ("Drukkerij Peeters NV", "Leuven", "nl"),
    "noord": ("Studio Noord VOF", "Antwerpen", "nl"),
    "lumiere": ("Atelier Lumière SRL", "Liège", "fr"),
    "linde": ("Hoeve De Linde", "Brugge", "nl"),
    "verbeke": ("Garage Verbeke & Zonen BV", "Kortrijk", "nl"),
}


def bucket_of(days: int | None) -> str:
    """The aging bucket of an invoice ``days`` past its due date (None: no due date)."""
    days = 0 if days is None else days
    for key, (low, high) in BUCKETS.items():
        if (low is None or days >= low) and (high is None or days <= high):
            return key
    raise AssertionError(days)


@dataclass(frozen=True)
class Owed:
    """An invoice still owed: what the lists and the aging must show for it."""

    id: int
    number: str
    customer: str
    days: int | None  # days past its due date (negative: not due yet; None: no due date)
    amount_due: Decimal


@dataclass
class Morning:
    today: date
    customers: dict[str, Customer] = field(default_factory=dict)
    owed: list[Owed] = field(default_factory=list)
    unapplied_credit: Decimal = D("0.00")
    returned: Owed | None = None  # the invoice whose direct debit came back
    returned_run_id: int | None = None
    returned_e2e: str | None = None
    # Customers owing on a direct-debit profile with no mandate on it: never collected.
    without_mandate: list[str] = field(default_factory=list)

    def buckets(self) -> dict[str, tuple[int, Decimal]]:
        """bucket key → (invoices, amount due), as the seed defines them."""
        found = {key: (0, D("0.00")) for key in BUCKETS}
        for invoice in self.owed:
            count, amount = found[bucket_of(invoice.days)]
            found[bucket_of(invoice.days)] = (count + 1, amount + invoice.amount_due)
        return found

    def overdue(self) -> list[Owed]:
        return [i for i in self.owed if i.days is not None and i.days >= 1]

    def owed_by(self, key: str) -> list[Owed]:
        return [i for i in self.owed if i.customer == key]


def seed() -> Morning:
    """The morning's rows, committed; see the module's docstring."""
    return _Seeder(local_today()).run()


class _Seeder:
    def __init__(self, today: date):
        self.today = today
        self.morning = Morning(today)
        self.serial = 400

    def run(self) -> Morning:
        db.session.add(TeamleaderConnection(account_id="acme-focus", webhook_token="t" * 32))
        self.transfer = make_profile(name="Bank transfer", allow_bank_transfer=True)
        self.debit = make_profile(
            name="Direct debit", allow_direct_debit=True, allow_bank_transfer=True
        )
        for key, (name, city, language) in CUSTOMERS.items():
            self.morning.customers[key] = self._customer(key, name, city, language)
        self._plain()
        self._partly_paid()
        self._credit_notes()
        self._closed()
        self._direct_debits()
        # Noord pays by direct debit too, but its signed mandate was never uploaded.
        self.morning.without_mandate.append("noord")
        db.session.commit()
        return self.morning

    def _customer(self, key: str, name: str, city: str, language: str) -> Customer:
        teamleader_id = str(uuid.uuid5(NAMESPACE, key))
        slug = key.replace(" ", "")
        return make_customer(
            teamleader_id=teamleader_id,
            name=name,
            city=city,
            language=language,
            email=f"boekhouding@{slug}.example",
            teamleader_url=f"https://focus.teamleader.eu/company_detail.php?id={teamleader_id}",
            profile=self.debit if key in ("peeters", "noord") else self.transfer,
        )

    def _invoice(self, key: str, days: int | None, total: str, **overrides) -> Invoice:
        """An invoice of ``key``'s, ``days`` past its due date, booked as an import does
        (EXPIRED once overdue), on the customer's profile."""
        self.serial += 1
        customer = self.morning.customers[key]
        due = None if days is None else self.today - timedelta(days=days)
        invoice_date = (due or self.today) - timedelta(days=30)
        total_incl = D(total)
        excl = (total_incl / VAT).quantize(D("0.01"))
        values = {
            "customer": customer,
            "profile": customer.profile,
            "number": f"{invoice_date.year} / {self.serial}",
            "teamleader_id": str(uuid.uuid5(NAMESPACE, f"invoice-{self.serial}")),
            "invoice_date": invoice_date,
            "due_date": due,
            "total_excl_vat": excl,
            "total_vat": total_incl - excl,
            "total_incl_vat": total_incl,
            "payable": total_incl,
            "amount_due": total_incl,
            "state": InvoiceState.EXPIRED if days and days > 0 else InvoiceState.BOOKED,
        }
        return make_invoice(**{**values, **overrides})

    def _owed(self, invoice: Invoice, key: str, days: int | None) -> Owed:
        db.session.refresh(invoice)
        owed = Owed(invoice.id, invoice.number, key, days, invoice.amount_due)
        self.morning.owed.append(owed)
        return owed

    def _plain(self) -> None:
        """Invoices simply owed, at the edges of each aging bucket."""
        for key, days, total in [
            ("cygne", -20, "2420.00"),
            ("cygne", 0, "605.00"),  # due today: not overdue yet
            ("cygne", 31, "363.00"),
            ("hoecke", -5, "302.50"),
            ("architects", 1, "4840.00"),
            ("architects", 61, "726.00"),
            ("noord", 30, "96.80"),  # direct debit, no mandate
            ("noord", 60, "145.20"),
            ("lumiere", -10, "9680.00"),
            ("linde", 90, "2178.00"),
            ("linde", 91, "3025.00"),
            ("linde", 200, "12100.00"),
            ("verbeke", 7, "847.00"),
            ("verbeke", None, "423.50"),  # no due date: counted as not yet due
        ]:
            self._owed(self._invoice(key, days, total), key, days)

    def _partly_paid(self) -> None:
        invoice = self._invoice("hoecke", 40, "1815.00")
        ledger.record_payment(
            invoice,
            key="bank:transfer:hoecke-part",
            amount=D("800.00"),
            occurred_at=_at(self.today - timedelta(days=12)),
            source=PaymentSource.BANK,
            actor="system",
            reference="+++090/9337/55493+++",
            reason="Part of the amount, by transfer.",
        )
        db.session.commit()
        self._owed(invoice, "hoecke", 40)  # 1,015.00 still due

    def _credit_notes(self) -> None:
        invoice = self._invoice("cygne", 12, "1210.00")
        self._credit_note("cygne", "242.00", invoice)
        ledger.settle(invoice, f"Credited by CN{invoice.number}.", actor="system")
        db.session.commit()
        self._owed(invoice, "cygne", 12)  # 968.00 still due
        self._credit_note("lumiere", "121.00", None)  # credits no invoice here
        self.morning.unapplied_credit += D("121.00")

    def _credit_note(self, key: str, total: str, invoice: Invoice | None) -> Invoice:
        """A booked credit note, as the import stores one: never collected."""
        return self._invoice(
            key,
            None,
            total,
            kind=DocumentKind.CREDIT_NOTE,
            number=f"CN{self.serial + 1}",
            invoice_date=self.today - timedelta(days=6),
            amount_due=D("0.00"),
            state=InvoiceState.ARCHIVED,
            credited_invoice_id=invoice.id if invoice else None,
            credited_teamleader_id=invoice.teamleader_id if invoice else None,
        )

    def _closed(self) -> None:
        """A paid and an archived invoice: in no open figure."""
        paid = self._invoice("lumiere", 20, "1452.00")
        ledger.record_payment(
            paid,
            key="provider:tr_lumiere",
            amount=D("1452.00"),
            occurred_at=_at(self.today - timedelta(days=25)),
            source=PaymentSource.PROVIDER,
            actor="system",
        )
        archived = self._invoice("verbeke", 150, "665.50")
        ledger.archive(archived, "The branch closed; written off.", actor="user:admin")
        db.session.commit()

    def _direct_debits(self) -> None:
        """Peeters pays by direct debit: one debit under way, one the bank returned."""
        peeters = self.morning.customers["peeters"]
        mandate = make_mandate(
            customer=peeters,
            profile=self.debit,
            reference="PEETERS-2024-001",
            debtor_name=peeters.name,
            iban="BE71096123456769",
        )
        coming = self._invoice("peeters", -3, "181.50")
        ledger.start_collection(coming, "Direct debit announced.", actor="system")
        db.session.commit()
        make_collection(mandate=mandate, invoice=coming, end_to_end_id="PEETERS-E2E-0002")
        self._owed(coming, "peeters", -3)

        back = self._invoice("peeters", 25, "544.50")
        collection = self._collect(back, mandate, self.today - timedelta(days=20))
        settled_on, returned_on = self.today - timedelta(days=19), self.today - timedelta(days=4)
        collection_outcomes.settle(collection, back.amount_due, settled_on, "bank")
        db.session.commit()
        amount = collection.amount
        collection_outcomes.return_(collection, "MS02", amount, returned_on, "bank", self.today)
        db.session.commit()
        self.morning.returned = self._owed(back, "peeters", 25)
        self.morning.returned_run_id = collection.run_id
        self.morning.returned_e2e = collection.end_to_end_id

    def _collect(self, invoice: Invoice, mandate: Mandate, on: date) -> Collection:
        """``invoice`` in a run sent to the bank for ``on``."""
        ledger.start_collection(invoice, "Direct debit announced.", actor="system")
        run = CollectionRun(
            scheme=mandate.scheme,
            status=CollectionRunStatus.SENT,
            message_id="RUN-PEETERS-0001",
            pain_version="pain.008.001.02",
            count=1,
            total=invoice.amount_due,
            collect_until=on,
            actor="user:admin",
        )
        db.session.add(run)
        db.session.commit()
        e2e = "PEETERS-E2E-0001"
        return make_collection(
            mandate=mandate, invoice=invoice, run=run, collection_date=on, end_to_end_id=e2e
        )


def _at(day: date) -> datetime:
    """A moment in the morning of ``day``."""
    return datetime.combine(day, time(10), UTC)
