"""Turning Teamleader documents (list shape) into invoices and credit notes here.

One ``Importer`` per import. Documents go in chunks of 100, each chunk one
transaction, so a failure part-way leaves whole chunks behind and a rerun picks up
the rest. Documents are unique on their Teamleader id: a chunk that collides with a
concurrent import is redone one document at a time, and the collisions are skipped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy.exc import IntegrityError

from collector.core import clock
from collector.core.columns import utcnow
from collector.documents import ledger, overpayments, timeline
from collector.documents.ledger import credited_total
from collector.documents.models import Customer, DocumentKind, Invoice, InvoiceEvent, InvoiceState
from collector.extensions import db
from collector.teamleader import NotFound, TeamleaderClient
from collector.teamleader.customer_sync import CustomerSync, refs_of, sync_customers
from collector.teamleader.models import DocumentImport, TeamleaderConnection
from collector.teamleader.profile_choice import Choice, ProfileChooser

BOOKED = ("outstanding", "matched")  # "booked" in Teamleader's UI (reference §6.1)
CHUNK = 100
MAX_PROBLEMS = 500
ZERO = Decimal("0.00")
OPEN = (InvoiceState.BOOKED, InvoiceState.EXPIRED)
ARCHIVED_BY_CREDIT = "Archived: fully credited."
PAID_WITH_CREDIT = "Paid: payments and credit notes cover it."


class Progress:
    """What an import reports while it runs; the job passes one that updates its JobRun."""

    def total(self, total: int) -> None: ...

    def advance(self, step: int = 1, **counts: int) -> None: ...

    def say(self, message: str) -> None: ...


class DocumentError(Exception):
    """A document we cannot import as it is; it fails alone, the import goes on."""


@dataclass
class Draft:
    """A document ready to insert: its column values and its first events."""

    record: dict
    values: dict
    events: list[tuple[str, str, dict]] = field(default_factory=list)
    not_collected: bool = False  # imported, but paid or nothing to collect

    def build(self, actor: str) -> Invoice:
        """A new row each time: a row from a rolled-back insert cannot be reused."""
        invoice = Invoice(**self.values)
        for kind, message, details in self.events:
            InvoiceEvent(invoice=invoice, kind=kind, message=message, actor=actor, details=details)
        return invoice


def state_for(
    payable: Decimal, due: Decimal, credited: Decimal, due_date: date | None, today: date
) -> tuple[InvoiceState, str | None]:
    """The state of a freshly imported invoice, and why it is not collected (if it is not)."""
    if payable <= ZERO:
        return InvoiceState.ARCHIVED, "zero amount: nothing to collect"
    if due <= ZERO:
        if credited >= payable:
            return InvoiceState.ARCHIVED, "fully credited"
        return InvoiceState.PAID, "paid in Teamleader"
    if due_date is not None and due_date < today:
        return InvoiceState.EXPIRED, None
    return InvoiceState.BOOKED, None


class Importer:
    """Imports documents for one ``DocumentImport``; counts and problems land on it."""

    def __init__(
        self,
        client: TeamleaderClient,
        connection: TeamleaderConnection,
        document_import: DocumentImport,
        *,
        today: date,
        actor: str,
    ):
        self.client = client
        self.connection = connection
        self.imp = document_import
        self.today = today
        self.actor = actor
        self.chooser = ProfileChooser(client, connection)
        self.counts: Counter[str] = Counter(document_import.counts or {})
        self.problems: list[dict] = list(document_import.problems or [])

    # -- the whole run -------------------------------------------------------------------

    def run(self, invoices: list[dict], credit_notes: list[dict], progress: Progress) -> None:
        """Import ``invoices`` then ``credit_notes`` (so credit notes find their invoice)."""
        progress.total(len(invoices) + len(credit_notes))
        invoices = self._wanted(invoices, "invoice", progress)
        credit_notes = self._wanted(credit_notes, "credit_note", progress)
        progress.say("Updating customers…")
        customers = sync_customers(
            self.client, refs_of(invoices + credit_notes), self.connection.default_profile_id
        )
        self._count(customers_created=customers.created, customers_updated=customers.updated)
        progress.say("Importing documents…")
        for chunk in _chunks(invoices):
            self._chunk(chunk, progress, lambda c: self._invoices(c, customers))
        for chunk in _chunks(credit_notes):
            self._chunk(chunk, progress, lambda c: self._credit_notes(c, customers))
        progress.say("")

    def _wanted(self, records: list[dict], kind: str, progress: Progress) -> list[dict]:
        """Drop what this import must not take: other departments, unbooked documents."""
        departments = set(self.connection.import_department_ids or [])
        wanted, before = [], Counter(self.counts)
        for record in records:
            if departments and record.get("department_id") not in departments:
                self._problem(record, kind, "skipped", "department not chosen for import")
            elif kind == "invoice" and record.get("status") not in BOOKED:
                self._problem(record, kind, "skipped", f"not booked ({record.get('status')})")
            else:
                wanted.append(record)
        dropped = len(records) - len(wanted)
        if dropped:
            self._save()
            progress.advance(dropped, **_delta(before, self.counts))
        return wanted

    def _chunk(self, chunk: list[dict], progress: Progress, work: Callable) -> None:
        before = Counter(self.counts)
        work(chunk)
        self._save()
        progress.advance(len(chunk), **_delta(before, self.counts))

    # -- invoices ------------------------------------------------------------------------

    def _invoices(self, records: list[dict], customers: CustomerSync) -> None:
        drafts = []
        for record in self._new(records):
            try:
                drafts.append(self._invoice_draft(record, _customer(record, customers)))
            except DocumentError as exc:
                self._problem(record, "invoice", "failed", str(exc))
            except NotFound:
                # Deleted in Teamleader between the list and invoices.info.
                self._problem(record, "invoice", "failed", "no longer in Teamleader")
        inserted = self._insert(drafts, "invoice")
        orphans = _orphan_credit_notes([d.values["teamleader_id"] for d in inserted])
        if orphans:
            self._link_credit_notes(orphans)

    def _invoice_draft(self, record: dict, customer: Customer) -> Draft:
        total = record.get("total") or {}
        payable = _amount(total, "payable", "tax_inclusive")
        due = total.get("due")
        due = payable if due is None else due
        if record.get("status") == "matched" or record.get("paid"):
            due = ZERO  # settled, whatever the totals say (reference §15.6)
        if record.get("invoice_date") is None:
            raise DocumentError("booked invoice without an invoice date")
        # Nothing is paid or credited here yet: what Teamleader says is due, never more
        # than the payable.
        amount_due = max(ZERO, min(due, payable))
        state, not_collected = state_for(
            payable, amount_due, ZERO, record.get("due_on"), self.today
        )
        choice = self.chooser.for_invoice(record, customer)
        draft = Draft(
            record,
            {
                **self._common(record, customer, choice, total),
                "kind": DocumentKind.INVOICE,
                "number": record.get("invoice_number") or record["id"],
                "invoice_date": record["invoice_date"],
                "due_date": record.get("due_on"),
                "amount_due": amount_due,
                "payable": payable,
                "payment_reference": record.get("payment_reference"),
                "state": state,
                "subscription_teamleader_id": record.get("subscription_id"),
                "teamleader_due": due,
            },
        )
        message = f"Imported on profile {_profile_name(choice)} ({choice.source})."
        if not_collected:
            message += f" Not collected: {not_collected}."
        self._event(draft, timeline.IMPORTED, message, profile_source=choice.source)
        self._profile_notes(draft, choice)
        if self._term_is_zero(record):
            self._event(
                draft,
                timeline.PAYMENT_TERM_ZERO,
                "Generated by a subscription with a payment term of 0 days: due on its "
                "invoice date, it expires at once. Give the subscription a payment term "
                "in Teamleader.",
                subscription_id=record.get("subscription_id"),
            )
        draft.not_collected = bool(not_collected)
        return draft

    def _term_is_zero(self, record: dict) -> bool:
        if not record.get("subscription_id"):
            return False
        subscription = self.chooser.subscription(record["subscription_id"])
        if subscription and subscription.get("payment_term"):
            return (subscription["payment_term"].get("days") or 0) == 0
        # Without subscriptions.info (not read unless its custom field is configured), a
        # due date on the invoice date is what a 0-day term produces.
        due_on, invoice_date = record.get("due_on"), record.get("invoice_date")
        return due_on is not None and invoice_date is not None and due_on <= invoice_date

    # -- credit notes --------------------------------------------------------------------

    def _credit_notes(self, records: list[dict], customers: CustomerSync) -> None:
        credited = _by_teamleader_id(r["invoice_id"] for r in records if r.get("invoice_id"))
        drafts = []
        for record in self._new(records):
            try:
                invoice = credited.get(record.get("invoice_id"))
                customer = _customer(record, customers)
                drafts.append(self._credit_note_draft(record, customer, invoice))
            except DocumentError as exc:
                self._problem(record, "credit_note", "failed", str(exc))
        inserted = self._insert(drafts, "credit_note")
        touched = {d.values["credited_invoice_id"] for d in inserted} - {None}
        if touched:
            self._apply_credits([i for i in credited.values() if i.id in touched])

    def _credit_note_draft(
        self, record: dict, customer: Customer, invoice: Invoice | None
    ) -> Draft:
        if record.get("credit_note_date") is None:
            raise DocumentError("booked credit note without a date")
        total = record.get("total") or {}
        choice = self.chooser.for_credit_note(invoice.profile if invoice else None, customer)
        draft = Draft(
            record,
            {
                **self._common(record, customer, choice, total),
                "kind": DocumentKind.CREDIT_NOTE,
                "number": "CN" + (record.get("credit_note_number") or record["id"]),
                "invoice_date": record["credit_note_date"],
                "due_date": None,
                # Credit notes are never collected: they lower what their invoice asks.
                "amount_due": ZERO,
                "state": InvoiceState.ARCHIVED,
                "credited_teamleader_id": record.get("invoice_id"),
                "credited_invoice_id": invoice.id if invoice else None,
            },
        )
        self._event(draft, timeline.IMPORTED, "Imported; credit notes are not collected.")
        if invoice is not None:
            self._event(
                draft,
                timeline.CREDIT_NOTE_LINKED,
                f"Credits invoice {invoice.number}.",
                invoice_id=invoice.id,
            )
        elif record.get("invoice_id"):
            self._event(
                draft,
                timeline.CREDITED_INVOICE_MISSING,
                "The invoice it credits is not here (not imported yet, or outside the range); "
                "it will be linked when it is imported.",
                teamleader_invoice_id=record["invoice_id"],
            )
        return draft

    def _link_credit_notes(self, notes: list[Invoice]) -> None:
        """Link credit notes that arrived before their invoice; then offset them."""
        invoices = _by_teamleader_id(n.credited_teamleader_id for n in notes)
        for note in notes:
            invoice = invoices[note.credited_teamleader_id]
            note.credited_invoice_id = invoice.id
            timeline.record(
                note,
                timeline.CREDIT_NOTE_LINKED,
                f"Credits invoice {invoice.number}.",
                actor=self.actor,
                invoice_id=invoice.id,
                import_id=self.imp.id,
            )
        db.session.flush()
        self._apply_credits(list(invoices.values()))

    def _apply_credits(self, invoices: list[Invoice]) -> None:
        """Offset credit notes against their invoices, re-reading each invoice once.

        After a credit note, Teamleader's ``total.due`` is re-read (one call per 100
        invoices) rather than guessed (reference §7).
        """
        fresh = self.client.invoices_by_ids([i.teamleader_id for i in invoices])
        for invoice in invoices:
            apply_credit(invoice, fresh.get(invoice.teamleader_id), self.actor, self.imp.id)

    # -- shared --------------------------------------------------------------------------

    def _new(self, records: list[dict]) -> list[dict]:
        """The records not imported yet; the others are counted as skipped."""
        existing = _existing(r["id"] for r in records)
        self._count(skipped=sum(r["id"] in existing for r in records))
        return [r for r in records if r["id"] not in existing]

    def _common(self, record: dict, customer: Customer, choice: Choice, total: dict) -> dict:
        incl = _amount(total, "tax_inclusive", "payable")
        excl = total.get("tax_exclusive")
        excl = incl if excl is None else excl
        currency = record.get("currency") or total.get("currency")
        if not currency:
            raise DocumentError("no currency on the document")
        return {
            "teamleader_id": record["id"],
            "department_id": record.get("department_id"),
            "customer_id": customer.id,
            "profile_id": choice.profile.id if choice.profile else None,
            "import_id": self.imp.id,
            "currency": currency[:3].upper(),
            "total_excl_vat": excl,
            "total_vat": incl - excl,
            "total_incl_vat": incl,
            "teamleader_status": record.get("status"),
            "teamleader_paid_at": record.get("paid_at"),
            "teamleader_updated_at": record.get("updated_at"),
            "teamleader_url": record.get("web_url"),
            "state_changed_at": utcnow(),
        }

    def _profile_notes(self, draft: Draft, choice: Choice) -> None:
        for value in choice.unknown:
            self._event(
                draft,
                timeline.PROFILE_NOT_FOUND,
                f"The custom field names profile “{value}”, which does not exist here; "
                f"used {_profile_name(choice)} ({choice.source}) instead.",
                value=value,
            )

    def _event(self, draft: Draft, kind: str, message: str, **details: object) -> None:
        draft.events.append((kind, message, {**details, "import_id": self.imp.id}))

    def _insert(self, drafts: list[Draft], kind: str) -> list[Draft]:
        """Insert the drafts; the ones another import inserted first are skipped."""
        try:
            with db.session.begin_nested():
                db.session.add_all([d.build(self.actor) for d in drafts])
        except IntegrityError:
            # A concurrent import got some of them first: one at a time, theirs win.
            inserted = []
            for draft in drafts:
                try:
                    with db.session.begin_nested():
                        db.session.add(draft.build(self.actor))
                    inserted.append(draft)
                except IntegrityError:
                    self._count(skipped=1)
        else:
            inserted = drafts
        noun = "credit_notes" if kind == "credit_note" else "invoices"
        self._count(
            imported=len(inserted),
            not_collected=sum(d.not_collected for d in inserted),
            **{noun: len(inserted)},
        )
        return inserted

    def _problem(self, record: dict, kind: str, outcome: str, reason: str) -> None:
        self._count(**{outcome: 1})
        if len(self.problems) < MAX_PROBLEMS:
            number = record.get("invoice_number") or record.get("credit_note_number")
            self.problems.append(
                {
                    "teamleader_id": record.get("id"),
                    "kind": kind,
                    "number": number,
                    "outcome": outcome,
                    "reason": reason,
                }
            )

    def _count(self, **counts: int) -> None:
        self.counts.update({k: v for k, v in counts.items() if v})

    def _save(self) -> None:
        self.imp.counts = dict(self.counts)
        self.imp.problems = list(self.problems)
        db.session.commit()


def apply_credit(
    invoice: Invoice,
    fresh: dict | None,
    actor: str,
    import_id: int | None,
    *,
    today: date | None = None,
) -> None:
    """Recompute what is still due on ``invoice`` from its credit notes here and, when
    given, Teamleader's current view of it (list shape). Fully credited, an open invoice
    is archived; an invoice archived that way opens again when a credit note goes."""
    credited = credited_total(invoice)
    total = (fresh or {}).get("total") or {}
    if fresh is not None:
        if total:
            invoice.payable = _amount(total, "payable", "tax_inclusive")
        if total.get("due") is not None:
            invoice.teamleader_due = total["due"]
        invoice.teamleader_status = fresh.get("status")
        invoice.teamleader_updated_at = fresh.get("updated_at")
    before = invoice.amount_due
    reopens = invoice.state == InvoiceState.ARCHIVED and _archived_by_credit(invoice)
    if invoice.state in OPEN or reopens:
        ledger.recompute_due(invoice, credited)
    timeline.record(
        invoice,
        timeline.CREDITED,
        f"Credited {credited} {invoice.currency} in total; still due {invoice.amount_due}.",
        actor=actor,
        credited=str(credited),
        amount_due_before=str(before),
        amount_due=str(invoice.amount_due),
        import_id=import_id,
    )
    payable = invoice.payable if invoice.payable is not None else invoice.total_incl_vat
    if invoice.state in OPEN and invoice.amount_due <= 0 and credited >= payable:
        ledger.transition(
            invoice, InvoiceState.ARCHIVED, ARCHIVED_BY_CREDIT, actor=actor, import_id=import_id
        )
    elif invoice.state in OPEN and invoice.amount_due <= 0:
        # Part credited, the rest paid: settled, not closed without payment.
        ledger.transition(
            invoice, InvoiceState.PAID, PAID_WITH_CREDIT, actor=actor, import_id=import_id
        )
    elif reopens and invoice.amount_due > 0:
        state = ledger.open_state(invoice, today or clock.local_today())
        ledger.transition(
            invoice,
            state,
            "Open again: a credit note was removed.",
            actor=actor,
            import_id=import_id,
        )
    # A credit note on a document paid already leaves money the customer may want back.
    overpayments.track(invoice, ledger.overpaid(invoice, credited), actor=actor)


def _archived_by_credit(invoice: Invoice) -> bool:
    """Whether the invoice's last state change was archiving it as fully credited."""
    changes = [e for e in invoice.events if e.kind == timeline.STATE_CHANGED]
    return bool(changes) and changes[-1].message == ARCHIVED_BY_CREDIT


def _amount(total: dict, *keys: str) -> Decimal:
    for key in keys:
        if total.get(key) is not None:
            return total[key]
    raise DocumentError("no total on the document")


def _customer(record: dict, customers: CustomerSync) -> Customer:
    customer = customers.customers.get((record.get("customer_type"), record.get("customer_id")))
    if customer is None:
        raise DocumentError("no contact or company on the document")
    return customer


def _existing(ids: Iterable[str]) -> set[str]:
    ids = list(ids)
    if not ids:
        return set()
    query = db.select(Invoice.teamleader_id).where(Invoice.teamleader_id.in_(ids))
    return set(db.session.scalars(query))


def _by_teamleader_id(ids: Iterable[str]) -> dict[str, Invoice]:
    ids = list(set(ids))
    if not ids:
        return {}
    rows = db.session.scalars(
        db.select(Invoice).where(
            Invoice.teamleader_id.in_(ids), Invoice.kind == DocumentKind.INVOICE
        )
    )
    return {row.teamleader_id: row for row in rows}


def _orphan_credit_notes(invoice_ids: list[str]) -> list[Invoice]:
    if not invoice_ids:
        return []
    return list(
        db.session.scalars(
            db.select(Invoice).where(
                Invoice.kind == DocumentKind.CREDIT_NOTE,
                Invoice.credited_invoice_id.is_(None),
                Invoice.credited_teamleader_id.in_(invoice_ids),
            )
        )
    )


def _profile_name(choice: Choice) -> str:
    return f"“{choice.profile.name}”" if choice.profile else "none"


def _chunks(records: list[dict]) -> Iterator[list[dict]]:
    for start in range(0, len(records), CHUNK):
        yield records[start : start + CHUNK]


def _delta(before: Counter, after: Counter) -> dict[str, int]:
    return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
