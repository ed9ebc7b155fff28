"""Which documents a collection run would take, on which day and in which sequence, and
why each other document on a direct-debit profile would stay out.

A document is collected by its company entity's creditor (``accounts.entities``) when it
is an open invoice in euro with money due, on a profile that allows direct debit, not on
hold (``dunning.policy``: disputed, a promise to pay, a payment plan), and a mail sent to
the customer announced the debit (the SEPA pre-notification) on a mandate still active,
of the run's scheme, on the document's profile, for a day up to the run's last one. It
is collected on that day, or on the first day a file made today can reach the bank if
that is later.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from collector.accounts.models import Creditor
from collector.direct_debit import debits
from collector.direct_debit.files import pain008
from collector.direct_debit.models import Mandate, MandateScheme, MandateStatus
from collector.documents.models import DocumentKind, Invoice, InvoiceState, Profile
from collector.dunning import policy
from collector.dunning.models import HoldReason
from collector.extensions import db

ZERO = Decimal("0.00")
EXAMPLES = 5  # document numbers shown per reason

# Why a document stays out of a run, in the order the preview lists them.
PENDING = "pending"
NO_MANDATE = "no_mandate"
OTHER_SCHEME = "other_scheme"
NOT_ANNOUNCED = "not_announced"
LATER = "later"
MORE_THAN_ANNOUNCED = "more_than_announced"
CAME_BACK = "came_back"
NOT_EURO = "not_euro"
BAD_MANDATE = "bad_mandate"
CREDITOR = "creditor"
# On hold (``dunning.policy``), by the hold's reason.
HELD = {
    HoldReason.DISPUTED: "held_disputed",
    HoldReason.PROMISE: "held_promise",
    HoldReason.PAYMENT_PLAN: "held_payment_plan",
}
REASONS = {
    PENDING: _l("A collection is under way already"),
    HELD[HoldReason.DISPUTED]: _l("On hold: disputed (the document or its customer)"),
    HELD[HoldReason.PROMISE]: _l("On hold: the customer promised to pay by a day still to come"),
    HELD[HoldReason.PAYMENT_PLAN]: _l("On hold: on a payment plan"),
    NO_MANDATE: _l("The customer has no active mandate on the document's profile"),
    OTHER_SCHEME: _l("The customer's mandate is of the other scheme"),
    NOT_ANNOUNCED: _l("Not pre-notified: no mail sent to the customer announced the debit"),
    LATER: _l("Announced for a day after the run's last collection day"),
    CAME_BACK: _l(
        "Its last collection came back from the bank (rejected, returned or refunded): "
        "send the invitation again to announce a new debit"
    ),
    MORE_THAN_ANNOUNCED: _l(
        "More is due than the pre-notification announced: send the invitation again"
    ),
    NOT_EURO: _l("Not in euro"),
    BAD_MANDATE: _l("The mandate's reference has characters a SEPA file cannot carry"),
    CREDITOR: _l("The creditor's details are incomplete (Settings › Creditor)"),
}
# What the creditor's settings still lack, as the preview names it.
CREDITOR_FIELDS = {
    "name": _l("name"),
    "iban": _l("IBAN"),
    "identifier": _l("SEPA creditor identifier"),
    "bic": _l("BIC (pain.008.001.02 requires it)"),
}


@dataclass(frozen=True)
class Candidate:
    """One document a run would collect."""

    invoice_id: int
    number: str
    customer: str
    profile_id: int
    mandate_id: int
    mandate_reference: str
    amount: Decimal
    sequence_type: str
    collection_date: date
    # The creditor that collects it (its company entity's own, or the default): one file
    # per creditor account.
    creditor_id: int | None = None


@dataclass(frozen=True)
class Group:
    """A batch of the file: one sequence type, one collection day."""

    sequence_type: str
    collection_date: date
    count: int
    total: Decimal


@dataclass(frozen=True)
class File:
    """One pain.008 the run would write: the creditor account it credits."""

    creditor_name: str
    iban: str | None
    count: int
    total: Decimal


@dataclass(frozen=True)
class Exclusion:
    """How many documents stay out for one reason, with a few of their numbers."""

    reason: str
    label: str  # in the reader's language once shown
    count: int
    examples: list[str]


@dataclass
class Preview:
    """What a run would collect, grouped as its file would be, and what it would not."""

    scheme: MandateScheme
    until: date
    candidates: list[Candidate] = field(default_factory=list)
    excluded: list[Exclusion] = field(default_factory=list)
    creditor_problem: str | None = None
    # One per creditor account (``collection_runs.create_runs`` writes one file each).
    files: list[File] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.candidates)

    @property
    def total(self) -> Decimal:
        return sum((c.amount for c in self.candidates), ZERO)

    @property
    def groups(self) -> list[Group]:
        batches: dict[tuple[str, date], list[Candidate]] = defaultdict(list)
        for candidate in self.candidates:
            batches[candidate.sequence_type, candidate.collection_date].append(candidate)
        return [
            Group(kind, day, len(batch), sum((c.amount for c in batch), ZERO))
            for (kind, day), batch in sorted(batches.items(), key=lambda item: item[0][::-1])
        ]


def creditor_problem(creditor: Creditor | None, entity: str = "") -> str | None:
    """What the creditor still lacks before a pain.008 can be written, or None; ``entity``
    names the company entity whose own creditor it is."""
    if creditor is None:
        creditor = Creditor(name="", pain_version=pain008.VERSIONS[0])
    given = {
        "name": creditor.name,
        "iban": creditor.iban,
        "identifier": creditor.creditor_identifier,
        # Only the 2009 format requires the creditor's bank; later versions may omit it.
        "bic": creditor.bic or creditor.pain_version not in (None, "pain.008.001.02"),
    }
    missing = [str(CREDITOR_FIELDS[name]) for name, value in given.items() if not value]
    if not missing:
        return None
    if entity:
        return _(
            "The creditor of %(entity)s lacks its %(missing)s: fill it in under Settings › "
            "Creditor before its documents can be collected.",
            entity=entity,
            missing=", ".join(missing),
        )
    return _(
        "The creditor's %(missing)s must be filled in under Settings › Creditor before "
        "anything can be collected.",
        missing=", ".join(missing),
    )


def preview(today: date, until: date, scheme: MandateScheme | str) -> Preview:
    """What a run made ``today`` collecting up to ``until`` on ``scheme`` mandates would take."""
    scheme = MandateScheme(scheme)
    result = Preview(scheme=scheme, until=until)
    payees = _Payees()
    documents = db.session.scalars(_open_documents().options(joinedload(Invoice.customer))).all()
    said = debits.announcements(_open_documents().with_only_columns(Invoice.id).order_by(None))
    signed = _active_mandates()
    failed = debits.came_back(_open_documents().with_only_columns(Invoice.id).order_by(None))
    earliest = debits.earliest_collection(today)
    holds = policy.holds_on(_open_documents().with_only_columns(Invoice.id).order_by(None), today)
    left_out: dict[str, list[Invoice]] = defaultdict(list)
    for invoice in documents:
        announcement = said.get(invoice.id)
        reason = _exclusion(invoice, announcement, signed, scheme, until)
        if invoice.id in holds and reason != PENDING:
            reason = HELD[holds[invoice.id].reason]
        if reason is None and announcement.on <= failed.get(invoice.id, date.min):
            reason = CAME_BACK
        payee = payees.of(invoice)
        if reason is None and payees.problem(payee):
            reason = CREDITOR
        if reason is not None:
            left_out[reason].append(invoice)
            continue
        on = max(announcement.on, earliest)
        result.candidates.append(_candidate(invoice, announcement, on, payee))
    result.creditor_problem = payees.problems() or None
    result.files = payees.files(result.candidates)
    result.excluded = [
        Exclusion(reason, REASONS[reason], len(found), [i.number for i in found[:EXAMPLES]])
        for reason in REASONS
        if (found := left_out.get(reason))
    ]
    return result


def _open_documents() -> sa.Select:
    """Invoices with money due on a direct-debit profile, PENDING ones included (they are
    reported as under way)."""
    return (
        sa.select(Invoice)
        .join(Profile, Invoice.profile_id == Profile.id)
        .where(Profile.allow_direct_debit.is_(True), Invoice.kind == DocumentKind.INVOICE)
        .where(Invoice.state.in_([InvoiceState.BOOKED, InvoiceState.EXPIRED, InvoiceState.PENDING]))
        .where(Invoice.amount_due > 0)
        .order_by(Invoice.id)
    )


def _active_mandates() -> dict[tuple[int, int], list[Mandate]]:
    """Active mandates by (customer, profile), for the customers of open documents."""
    customers = _open_documents().with_only_columns(Invoice.customer_id).order_by(None)
    rows = db.session.scalars(
        sa.select(Mandate)
        .where(Mandate.status == MandateStatus.ACTIVE, Mandate.customer_id.in_(customers))
        .order_by(Mandate.signed_on.desc(), Mandate.id.desc())
    )
    found: dict[tuple[int, int], list[Mandate]] = defaultdict(list)
    for mandate in rows:
        found[mandate.customer_id, mandate.profile_id].append(mandate)
    return found


def _exclusion(
    invoice: Invoice,
    announcement: debits.Announcement | None,
    signed: dict[tuple[int, int], list[Mandate]],
    scheme: MandateScheme,
    until: date,
) -> str | None:
    if invoice.state == InvoiceState.PENDING:
        return PENDING
    if invoice.currency != debits.CURRENCY:
        return NOT_EURO
    mandate = announcement.mandate if announcement else None
    if mandate is None or (mandate.customer_id, mandate.profile_id) != (
        invoice.customer_id,
        invoice.profile_id,
    ):
        # Never announced, or on a mandate that no longer covers the document.
        mandates = signed.get((invoice.customer_id, invoice.profile_id), [])
        if not mandates:
            return NO_MANDATE
        return NOT_ANNOUNCED if any(m.scheme == scheme for m in mandates) else OTHER_SCHEME
    if mandate.scheme != scheme:
        return OTHER_SCHEME
    if not pain008.is_sepa_id(mandate.reference):
        return BAD_MANDATE
    if announcement.amount is not None and invoice.amount_due > announcement.amount:
        return MORE_THAN_ANNOUNCED
    return LATER if announcement.on > until else None


def account_key(payee: Creditor) -> tuple:
    """What makes two creditors write one file: the same name, account, identifier and
    pain.008 version."""
    return (payee.name, payee.iban, payee.bic, payee.creditor_identifier, payee.pain_version)


class _Payees:
    """The creditor of each document's entity, read once per entity, and what each lacks."""

    def __init__(self) -> None:
        self._by_department: dict[str | None, Creditor | None] = {}
        self._problems: dict[int | None, str | None] = {}

    def of(self, invoice: Invoice) -> Creditor | None:
        key = invoice.department_id
        if key not in self._by_department:
            self._by_department[key] = debits.creditor_for(invoice)
        return self._by_department[key]

    def problem(self, payee: Creditor | None) -> str | None:
        key = payee.id if payee is not None else None
        if key not in self._problems:
            own = payee is not None and payee.department_id
            entity = (payee.name or payee.department_id) if own else ""
            self._problems[key] = creditor_problem(payee, entity)
        return self._problems[key]

    def files(self, candidates: list[Candidate]) -> list[File]:
        """The files the candidates make: one per creditor account, as a run writes them."""
        payees = {p.id: p for p in self._by_department.values() if p is not None}
        found: dict[tuple, list[Candidate]] = defaultdict(list)
        for candidate in candidates:
            payee = payees[candidate.creditor_id]
            found[account_key(payee)].append(candidate)
        return [
            File(key[0], key[1], len(taken), sum((c.amount for c in taken), ZERO))
            for key, taken in found.items()
        ]

    def problems(self) -> str:
        """What every creditor met lacks; the default's when no document was met."""
        if not self._problems:
            self.problem(debits.current_creditor())
        return " ".join(sorted({p for p in self._problems.values() if p}))


def _candidate(
    invoice: Invoice, announcement: debits.Announcement, on: date, payee: Creditor | None
) -> Candidate:
    mandate = announcement.mandate
    return Candidate(
        invoice_id=invoice.id,
        number=invoice.number,
        customer=invoice.customer.name,
        profile_id=invoice.profile_id,
        mandate_id=mandate.id,
        mandate_reference=mandate.reference,
        amount=invoice.amount_due,
        sequence_type=mandate.sequence_type,
        collection_date=on,
        creditor_id=payee.id if payee is not None else None,
    )
