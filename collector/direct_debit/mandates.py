"""Mandates: the SEPA rules a mandate's details must meet, finding the mandate to collect
on, revoking one, letting unused ones lapse, and the lists the UI shows.

The rules are shared by the CSV upload (``mandate_upload``) and anything else that
records a mandate, so every path refuses the same things with the same words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from collector.accounts import audit
from collector.accounts.creditor import BankDetailError, read_bic, read_iban
from collector.core.columns import utcnow
from collector.core.errors import Conflict, NotFound, required_reason
from collector.direct_debit.models import (
    Collection,
    CollectionRun,
    CollectionRunStatus,
    CollectionStatus,
    Mandate,
    MandateStatus,
)
from collector.direct_debit.wording import N_, english, state_word
from collector.extensions import db

REFERENCE_LENGTH = 35
# The SEPA character set of a Unique Mandate Reference (reference §2.3). The XSD only
# says Max35Text, so a bank's validator, not ours, would be the first to notice.
REFERENCE_CHARACTERS = re.compile(r"[A-Za-z0-9/\-?:().,'+ ]+")
REFERENCE_CHARACTERS_TEXT = N_("letters a–z and A–Z, digits, spaces and / - ? : ( ) . , ' +")
# The EPC implementation guidelines forbid identifiers that start or end with "/" or
# contain "//"; banks reject such files.
REFERENCE_SLASHES = re.compile(r"^/|/$|//")
REASON_LENGTH = 300
LAPSE_AFTER = relativedelta(months=36)  # unused this long, a mandate lapses (§2.3)
LAPSE_REASON = N_("Not used for 36 months.")
# Since 2016 a debtor's BIC is optional for accounts inside the EEA ("IBAN only"): the
# pain.008 then says NOTPROVIDED, which sepaxml writes for a payment without "BIC".
# SEPA countries outside the EEA (CH, GB, MC, SM, AD, VA…) still need it.
# fmt: off
EEA = frozenset((
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
    "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",  # the EU
    "IS", "LI", "NO",
))
# fmt: on
# A date seen anywhere on Earth right now is at most this far ahead of UTC (UTC+14):
# a sign date is "in the future" only when it is in the future everywhere.
EARLIEST_OFFSET = timedelta(hours=14)


# Why a mandate's details cannot be stored: kept in English with an upload's problems,
# translated when shown (``mandate_rows.PROBLEMS``).
REFERENCE_REQUIRED = N_("A mandate reference is required.")
REFERENCE_TOO_LONG = N_(
    "A mandate reference has at most %(most)s characters; this one has %(length)s."
)
REFERENCE_CHARACTERS_WRONG = N_("Not allowed in a mandate reference: %(wrong)s. Use %(allowed)s.")
REFERENCE_SLASHES_WRONG = N_("A mandate reference may not start or end with “/” or contain “//”.")
IBAN_REQUIRED = N_("An IBAN is required.")
OUTSIDE_SEPA = N_("Accounts in %(country)s are outside SEPA: no direct debit from them.")
BIC_REQUIRED = N_(
    "A BIC is required for accounts in %(country)s (outside the EEA), and it cannot be "
    "derived from this IBAN."
)
OTHER_BANK = N_(
    "The BIC %(bic)s is not the bank of this IBAN (%(derived)s); it is stored as given."
)
RULES = (
    REFERENCE_REQUIRED,
    REFERENCE_TOO_LONG,
    REFERENCE_CHARACTERS_WRONG,
    REFERENCE_SLASHES_WRONG,
    IBAN_REQUIRED,
    OUTSIDE_SEPA,
    BIC_REQUIRED,
    OTHER_BANK,
)


# -- the rules --------------------------------------------------------------------------


def reference_key(reference: str) -> str:
    """What makes two references the same: UMRs are not case-sensitive (§2.3)."""
    return reference.strip().upper()


def reference_problem(reference: str) -> str | None:
    """Why ``reference`` (already stripped) cannot be a mandate reference, or None."""
    if not reference:
        return english(REFERENCE_REQUIRED)
    if len(reference) > REFERENCE_LENGTH:
        return english(REFERENCE_TOO_LONG, most=REFERENCE_LENGTH, length=len(reference))
    if not REFERENCE_CHARACTERS.fullmatch(reference):
        wrong = "".join(dict.fromkeys(c for c in reference if not REFERENCE_CHARACTERS.match(c)))
        wrong = wrong if len(wrong) <= 10 else wrong[:10] + "…"
        return english(REFERENCE_CHARACTERS_WRONG, wrong=wrong, allowed=REFERENCE_CHARACTERS_TEXT)
    if REFERENCE_SLASHES.search(reference):
        return english(REFERENCE_SLASHES_WRONG)
    return None


@dataclass(frozen=True)
class Account:
    """A debtor account as it is stored: compact IBAN and BIC (given, derived or none),
    with the problems per column ("iban", "bic") and remarks that do not stop it."""

    iban: str | None = None
    bic: str | None = None
    problems: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)


class Banks:
    """What schwifty's registries say about banks, remembered for one pass over a file:
    the BIC of a bank (country, bank code and branch code, the parts schwifty looks a
    BIC up by) and what a BIC cell reads as. A file of 100,000 accounts names a few
    hundred banks; each look-up in the registry cost as much as reading the IBAN itself
    (and builds a BIC object for every branch of the bank). At most ``KEPT`` of each are
    kept, so a file of all different banks does not grow the memory with its rows."""

    KEPT = 5000

    def __init__(self):
        self._derived: dict[tuple, str | None] = {}
        self._given: dict[str, tuple[str | None, str | None]] = {}

    def derived(self, iban) -> str | None:
        """The compact BIC of ``iban``'s bank, or None when schwifty does not know it."""
        key = (iban.country_code, iban.bank_code, iban.branch_code)
        if key not in self._derived:
            bank = iban.bic  # looked up in schwifty's registry on every access
            self._keep(self._derived)[key] = bank.compact if bank is not None else None
        return self._derived[key]

    def given(self, bic_text: str) -> str:
        """The compact BIC of a cell; raises ``BankDetailError`` as ``read_bic`` does."""
        found = self._given.get(bic_text)
        if found is None:
            try:
                found = (read_bic(bic_text).compact, None)
            except BankDetailError as exc:
                found = (None, str(exc))
            self._keep(self._given)[bic_text] = found
        bic, problem = found
        if problem is not None:
            raise BankDetailError(problem)
        return bic

    def _keep(self, memo: dict) -> dict:
        if len(memo) >= self.KEPT:
            memo.clear()
        return memo


def check_account(
    iban_text: str, bic_text: str, banks: Banks | None = None, *, validated: bool = False
) -> Account:
    """The account of ``iban_text`` (spaces, lower case fine) and ``bic_text`` (may be
    empty where schwifty derives it from the IBAN, or inside the EEA). ``banks`` keeps
    the bank look-ups of a pass over many rows; ``validated`` says an earlier pass over
    the very same text found the IBAN valid (``read_iban``)."""
    if not (iban_text or "").strip():
        return Account(problems={"iban": english(IBAN_REQUIRED)})
    try:
        iban = read_iban(iban_text, validated=validated)
    except BankDetailError as exc:
        return Account(problems={"iban": str(exc)})
    if not iban.in_sepa_zone:
        return Account(problems={"iban": english(OUTSIDE_SEPA, country=iban.country_code)})
    banks = banks or Banks()
    derived = banks.derived(iban)
    if (bic_text or "").strip():
        return _given_bic(iban.compact, bic_text, derived, banks)
    if derived is None and iban.country_code not in EEA:
        problem = english(BIC_REQUIRED, country=iban.country_code)
        return Account(iban=iban.compact, problems={"bic": problem})
    return Account(iban=iban.compact, bic=derived)


def _given_bic(iban: str, bic_text: str, derived: str | None, banks: Banks) -> Account:
    try:
        bic = banks.given(bic_text)
    except BankDetailError as exc:
        return Account(iban=iban, problems={"bic": str(exc)})
    warnings = {}
    # Bank and country (the first six characters) are what a typo or a BIC copied from
    # the wrong row changes; branches legitimately differ.
    if derived is not None and bic[:6] != derived[:6]:
        warnings["bic"] = english(OTHER_BANK, bic=bic, derived=derived)
    return Account(iban=iban, bic=bic, warnings=warnings)


def latest_today(now: datetime) -> date:
    """The latest calendar date anywhere at ``now``: a mandate signed "today" in
    Brussels shortly after midnight is not refused as signed in the future."""
    return (now + EARLIEST_OFFSET).date()


def lapses_on(mandate: Mandate) -> date:
    """The day an unused mandate lapses: 36 months after its last collection, or after
    its signature if it was never collected on."""
    return (mandate.last_collected_on or mandate.signed_on) + LAPSE_AFTER


# -- using and ending mandates ------------------------------------------------------------


def active_mandate(customer_id: int, profile_id: int) -> Mandate | None:
    """The customer's active mandate on this profile; the latest signed when several."""
    query = (
        sa.select(Mandate)
        .where(
            Mandate.customer_id == customer_id,
            Mandate.profile_id == profile_id,
            Mandate.status == MandateStatus.ACTIVE,
        )
        .order_by(Mandate.signed_on.desc(), Mandate.id.desc())
        .limit(1)
    )
    return db.session.scalars(query).first()


def revoke(mandate_id: int, reason: str, actor: str) -> Mandate:
    """End an active mandate for good, with the reason (the debtor cancelled it, the
    account closed…); its reference is never used again. Commits."""
    reason = required_reason(
        reason,
        _("Say why the mandate is revoked."),
        _("At most %(most)s characters.", most=REASON_LENGTH),
    )
    query = sa.select(Mandate).where(Mandate.id == mandate_id).with_for_update()
    mandate = db.session.scalars(query).first()
    if mandate is None:
        db.session.rollback()
        raise NotFound(_("No mandate with id %(id)s.", id=mandate_id))
    if mandate.status != MandateStatus.ACTIVE:
        db.session.rollback()
        raise Conflict(
            _(
                "Mandate %(reference)s is %(status)s already.",
                reference=mandate.reference,
                status=state_word(mandate.status.value),
            )
        )
    mandate.status = MandateStatus.REVOKED
    mandate.status_reason = f"{reason} ({actor})"[:REASON_LENGTH]
    mandate.status_changed_at = utcnow()
    audit.record(
        "mandate.revoked",
        target=f"mandate:{mandate.id}",
        details={"reference": mandate.reference, "reason": reason},
        actor=actor,
    )
    db.session.commit()
    return mandate


def lapse_unused(today: date) -> int:
    """Active mandates not collected on for 36 months (or never, 36 months after they
    were signed) become LAPSED; returns how many. Commits."""
    cutoff = today - LAPSE_AFTER
    last_use = sa.func.coalesce(Mandate.last_collected_on, Mandate.signed_on)
    result = db.session.execute(
        sa.update(Mandate)
        .where(Mandate.status == MandateStatus.ACTIVE, last_use <= cutoff)
        .values(status=MandateStatus.LAPSED, status_reason=LAPSE_REASON, status_changed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount


def pending_collections(mandate_id: int) -> int:
    """Collections on the mandate in a file not yet sent to the bank: a revoked
    mandate's must be taken out of their run by cancelling it."""
    query = (
        sa.select(sa.func.count(Collection.id))
        .join(CollectionRun, Collection.run_id == CollectionRun.id)
        .where(
            Collection.mandate_id == mandate_id,
            Collection.status == CollectionStatus.PENDING,
            CollectionRun.status == CollectionRunStatus.CREATED,
        )
    )
    return db.session.scalar(query) or 0


# -- lists --------------------------------------------------------------------------------


def get_mandate(mandate_id: int) -> Mandate:
    """The mandate with this id, or ``NotFound``."""
    options = [joinedload(Mandate.customer), joinedload(Mandate.profile)]
    mandate = db.session.get(Mandate, mandate_id, options=options)
    if mandate is None:
        raise NotFound(_("No mandate with id %(id)s.", id=mandate_id))
    return mandate


def customer_mandates(customer_id: int) -> list[Mandate]:
    """All of a customer's mandates, active first, then the latest signed."""
    active_first = sa.case((Mandate.status == MandateStatus.ACTIVE, 0), else_=1)
    query = (
        sa.select(Mandate)
        .where(Mandate.customer_id == customer_id)
        .order_by(active_first, Mandate.signed_on.desc(), Mandate.id.desc())
        .options(joinedload(Mandate.profile))
    )
    return list(db.session.scalars(query))


def recent_collections(mandate_id: int, limit: int = 20) -> list[Collection]:
    """The mandate's latest collections, for its page."""
    query = (
        sa.select(Collection)
        .where(Collection.mandate_id == mandate_id)
        .order_by(Collection.collection_date.desc(), Collection.id.desc())
        .limit(limit)
        .options(joinedload(Collection.invoice))
    )
    return list(db.session.scalars(query))
