"""Turning Teamleader documents (list shape) into invoices and credit notes here.

One ``Importer`` per import. Documents go in chunks of 100, each chunk one
transaction, so a failure part-way leaves whole chunks behind and a rerun picks up
the rest. Documents are unique on their Teamleader id: a chunk that collides with a
concurrent import is redone one document at a time, and the collisions are skipped.

Each chunk announces its new documents (``documents_imported``) in its own transaction,
so what they are owed (invitations) commits with them: a worker killed between chunks
leaves no document without it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import date

from sqlalchemy.exc import IntegrityError

from collector.documents import signals, timeline
from collector.documents.models import Customer, DocumentKind, Invoice
from collector.extensions import db
from collector.runtime.queue import QuietProgress
from collector.runtime.wordings import says
from collector.teamleader import NotFound, TeamleaderClient
from collector.teamleader.crediting import apply_credit
from collector.teamleader.customer_sync import CustomerSync, refs_of, sync_customers
from collector.teamleader.drafts import DocumentError, Draft, DraftMaker
from collector.teamleader.models import DocumentImport, TeamleaderConnection
from collector.teamleader.wording import CREDITS_INVOICE

BOOKED = ("outstanding", "matched")  # "booked" in Teamleader's UI (reference §6.1)
CHUNK = 100
MAX_PROBLEMS = 500


class Progress(QuietProgress):
    """What an import reports while it runs; the job passes one that updates its JobRun."""


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
        self.actor = actor
        self.today = today
        self.drafts = DraftMaker(client, connection, import_id=document_import.id, today=today)
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
                drafts.append(self.drafts.invoice(record, _customer(record, customers)))
            except DocumentError as exc:
                self._problem(record, "invoice", "failed", str(exc))
            except NotFound:
                # Deleted in Teamleader between the list and invoices.info.
                self._problem(record, "invoice", "failed", "no longer in Teamleader")
        inserted = self._insert(drafts, "invoice")
        orphans = _orphan_credit_notes([i.teamleader_id for i in inserted])
        if orphans:
            self._link_credit_notes(orphans)
        self._announce([i.id for i in inserted])

    # -- credit notes --------------------------------------------------------------------

    def _credit_notes(self, records: list[dict], customers: CustomerSync) -> None:
        credited = _by_teamleader_id(r["invoice_id"] for r in records if r.get("invoice_id"))
        drafts = []
        for record in self._new(records):
            try:
                invoice = credited.get(record.get("invoice_id"))
                customer = _customer(record, customers)
                drafts.append(self.drafts.credit_note(record, customer, invoice))
            except DocumentError as exc:
                self._problem(record, "credit_note", "failed", str(exc))
        inserted = self._insert(drafts, "credit_note")
        touched = {n.credited_invoice_id for n in inserted} - {None}
        if touched:
            self._apply_credits([i for i in credited.values() if i.id in touched])
        self._announce([n.id for n in inserted])

    def _link_credit_notes(self, notes: list[Invoice]) -> None:
        """Link credit notes that arrived before their invoice; then offset them."""
        invoices = _by_teamleader_id(n.credited_teamleader_id for n in notes)
        for note in notes:
            invoice = invoices[note.credited_teamleader_id]
            note.credited_invoice_id = invoice.id
            timeline.record(
                note,
                timeline.CREDIT_NOTE_LINKED,
                says(CREDITS_INVOICE, number=invoice.number),
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
        """The records not imported yet; those another import brought are counted as
        skipped (this import's own, met again when it is resumed, were counted already)."""
        existing = _existing(r["id"] for r in records)
        theirs = [r for r in records if r["id"] in existing and existing[r["id"]] != self.imp.id]
        self._count(skipped=len(theirs))
        return [r for r in records if r["id"] not in existing]

    def _insert(self, drafts: list[Draft], kind: str) -> list[Invoice]:
        """Insert the drafts; the ones another import inserted first are skipped."""
        try:
            with db.session.begin_nested():
                rows = [d.build(self.actor) for d in drafts]
                db.session.add_all(rows)
            inserted = list(zip(drafts, rows, strict=True))
        except IntegrityError:
            # A concurrent import got some of them first: one at a time, theirs win.
            inserted = []
            for draft in drafts:
                try:
                    with db.session.begin_nested():
                        row = draft.build(self.actor)
                        db.session.add(row)
                    inserted.append((draft, row))
                except IntegrityError:
                    self._count(skipped=1)
        noun = "credit_notes" if kind == "credit_note" else "invoices"
        self._count(
            imported=len(inserted),
            not_collected=sum(d.not_collected for d, _row in inserted),
            **{noun: len(inserted)},
        )
        return [row for _draft, row in inserted]

    def _announce(self, invoice_ids: list[int]) -> None:
        """Tell of new documents in the chunk's transaction: what they are owed commits
        with them (``mail.receivers``: their invitations, held for overdue and old
        documents unless the person who started the import opted in)."""
        if invoice_ids:
            signals.send(
                signals.documents_imported,
                self.actor,
                invoice_ids=invoice_ids,
                today=self.today,
                hold_after_days=self.connection.hold_mail_after_days,
                mail_old=self.imp.mail_old_documents,
            )

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


def _customer(record: dict, customers: CustomerSync) -> Customer:
    customer = customers.customers.get((record.get("customer_type"), record.get("customer_id")))
    if customer is None:
        raise DocumentError("no contact or company on the document")
    return customer


def _existing(ids: Iterable[str]) -> dict[str, int | None]:
    """Teamleader id → the import that brought it, for the documents here already."""
    ids = list(ids)
    if not ids:
        return {}
    query = db.select(Invoice.teamleader_id, Invoice.import_id).where(
        Invoice.teamleader_id.in_(ids)
    )
    return {teamleader_id: import_id for teamleader_id, import_id in db.session.execute(query)}


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


def _chunks(records: list[dict]) -> Iterator[list[dict]]:
    for start in range(0, len(records), CHUNK):
        yield records[start : start + CHUNK]


def _delta(before: Counter, after: Counter) -> dict[str, int]:
    return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
