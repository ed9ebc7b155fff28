"""Who is paid: the creditor's name and bank account (checked with schwifty), its SEPA
creditor identifier (python-stdnum's ``eu.at_02``), its direct-debit settings and how it
shows itself to customers (``creditor_details``). The company default is the row without
a department; each company entity may have its own (``entities``)."""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from schwifty import BIC, IBAN
from schwifty import exceptions as bank
from stdnum import exceptions as stdnum_errors
from stdnum.eu import at_02

from collector.accounts import audit_changes, creditor_details
from collector.accounts.models import Creditor
from collector.accounts.models.creditor import DEFAULT_PRENOTIFICATION_DAYS, PAIN_VERSIONS
from collector.core.errors import Invalid
from collector.extensions import db

MAX_NAME = 140
# The rulebook's 14 calendar days unless agreed otherwise with the debtor (reference §2.5);
# a shorter agreed period is common, a longer one than two months is not.
PRENOTIFICATION_RANGE = (1, 60)

# The reasons are shown on forms, in the reader's language (``str()`` when raised).
IDENTIFIER_PROBLEMS = {
    stdnum_errors.InvalidChecksum: _l(
        "The check digits (characters 3 and 4) do not match the rest: please look for a "
        "typing error."
    ),
}
IDENTIFIER_PROBLEM = _l(
    "A creditor identifier is a country code, two check digits, a three-character "
    "business code (often ZZZ) and the national identifier, e.g. BE69ZZZ050D000000008."
)

IBAN_PROBLEMS = {
    bank.InvalidCountryCode: _l("An IBAN starts with a known country code, such as BE or NL."),
    bank.InvalidLength: _l("This IBAN does not have the number of characters its country uses."),
    bank.InvalidChecksumDigits: _l(
        "The IBAN's check digits do not match the rest: please look for a typing error."
    ),
    bank.InvalidBBANChecksum: _l(
        "The account number's own check digits do not match: please look for a typing error."
    ),
}
IBAN_PROBLEM = _l("This is not a valid IBAN: the account part is not in its country's form.")

BIC_PROBLEMS = {
    bank.InvalidLength: _l("A BIC has 8 or 11 characters."),
    bank.InvalidCountryCode: _l("Letters 5 and 6 of a BIC are a country code, such as BE."),
}
BIC_PROBLEM = _l(
    "A BIC is 4 letters for the bank, 2 for the country, 2 letters or digits for the "
    "location and optionally 3 for the branch."
)


def current() -> Creditor:
    """The company default creditor row, created empty on first use."""
    row = default()
    if row is None:
        row = Creditor(name="", department_id=None)
        db.session.add(row)
        db.session.commit()
    return row


def default() -> Creditor | None:
    """The company default creditor (no department), if there is one; never writes."""
    query = db.select(Creditor).where(Creditor.department_id.is_(None)).order_by(Creditor.id)
    return db.session.scalars(query.limit(1)).first()


def update(
    name: str,
    iban: str,
    bic: str,
    creditor_identifier: str = "",
    prenotification_days: int | None = DEFAULT_PRENOTIFICATION_DAYS,
    pain_version: str = PAIN_VERSIONS[0],
    *,
    department_id: str | None = None,
    **details: str,
) -> Creditor:
    """Store the details of the company default creditor, or of ``department_id``'s own
    (made on first save); anything invalid stores nothing. ``details``: the address,
    contact and sender fields of ``creditor_details``."""
    name = (name or "").strip()
    account, bic_code, errors = _check_account(iban, bic)
    if len(name) > MAX_NAME:
        errors["name"] = [_("At most %(num)s characters.", num=MAX_NAME)]
    identifier = _check_identifier(creditor_identifier, errors)
    low, high = PRENOTIFICATION_RANGE
    if prenotification_days is None or not low <= prenotification_days <= high:
        errors["prenotification_days"] = [
            _("A number of days from %(low)s to %(high)s.", low=low, high=high)
        ]
    if pain_version not in PAIN_VERSIONS:
        errors["pain_version"] = [_("One of %(choices)s.", choices=", ".join(PAIN_VERSIONS))]
    shown = creditor_details.check(details, errors)
    if errors:
        raise Invalid(errors)
    creditor = current() if department_id is None else _own_row(department_id)
    before = audit_changes.snapshot(creditor, AUDITED_FIELDS)
    for field, value in shown.items():
        if field in details:  # a caller that names none of them keeps what is stored
            setattr(creditor, field, value)
    creditor.name, creditor.iban, creditor.bic = name, account, bic_code
    creditor.creditor_identifier = identifier
    creditor.prenotification_days = prenotification_days
    creditor.pain_version = pain_version
    _record(before, creditor)
    db.session.commit()
    return creditor


AUDITED_FIELDS = (
    "name",
    "iban",
    "bic",
    "creditor_identifier",
    "prenotification_days",
    "pain_version",
    *creditor_details.FIELDS,
)


def _record(before: dict, creditor: Creditor) -> None:
    if creditor.department_id is None:
        audit_changes.record_changes("settings.changed", before, creditor, area="creditor")
    else:
        target = f"department:{creditor.department_id}"
        audit_changes.record_changes(
            "settings.changed", before, creditor, area="entity", target=target
        )


def _own_row(department_id: str) -> Creditor:
    """The entity's own row, added (not committed) when it has none yet."""
    row = db.session.scalars(db.select(Creditor).filter_by(department_id=department_id)).first()
    if row is None:
        row = Creditor(department_id=department_id[:64])
        db.session.add(row)
    return row


def _check_identifier(value: str, errors: dict[str, list[str]]) -> str | None:
    """The compact creditor identifier (AT-02), or None when empty; a fault goes in
    ``errors``."""
    if not (value or "").strip():
        return None
    try:
        return at_02.validate(value)
    except stdnum_errors.ValidationError as exc:
        errors["creditor_identifier"] = [_reason(exc, IDENTIFIER_PROBLEMS, IDENTIFIER_PROBLEM)]
        return None


def grouped(iban: str) -> str:
    """``BE68539007547034`` → ``BE68 5390 0754 7034``, as IBANs are printed."""
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


class BankDetailError(ValueError):
    """An IBAN or BIC schwifty refuses; the message says why, for the user."""


def read_iban(text: str, *, validated: bool = False) -> IBAN:
    """schwifty's IBAN of ``text`` (spaces and lower case are fine); raises
    ``BankDetailError`` with a friendly reason. ``validated``: an earlier read of the very
    same text found it valid, so it is not validated again (its characters, length,
    format and check digits: three quarters of schwifty's time on an IBAN)."""
    try:
        return IBAN(text, allow_invalid=validated)
    except bank.SchwiftyException as exc:
        raise BankDetailError(_reason(exc, IBAN_PROBLEMS, IBAN_PROBLEM)) from exc


def read_bic(text: str) -> BIC:
    """schwifty's BIC of ``text``; raises ``BankDetailError`` with a friendly reason."""
    try:
        return BIC(text)
    except bank.SchwiftyException as exc:
        raise BankDetailError(_reason(exc, BIC_PROBLEMS, BIC_PROBLEM)) from exc


def _check_account(iban: str, bic: str) -> tuple[str | None, str | None, dict[str, list[str]]]:
    """The compact IBAN and BIC to store, and the problems found, per field."""
    errors: dict[str, list[str]] = {}
    account = bic_code = None
    if (iban or "").strip():
        try:
            account = read_iban(iban)
        except BankDetailError as exc:
            errors["iban"] = [str(exc)]
    if (bic or "").strip():
        try:
            bic_code = read_bic(bic).compact
        except BankDetailError as exc:
            errors["bic"] = [str(exc)]
        known = account.bic if account is not None else None
        if bic_code and known is not None and bic_code[:6] != known.compact[:6]:
            # A BIC left over from another account (the default's, copied to an entity)
            # would send the file to the wrong bank.
            errors["bic"] = [
                _(
                    "This is not the BIC of the IBAN's bank (%(bic)s): correct it or leave "
                    "it empty.",
                    bic=known.compact,
                )
            ]
    elif account is not None and account.bic is not None:
        # schwifty knows the banks of several countries (BE, NL, DE…) by their bank code;
        # for the others the BIC stays empty, which SEPA allows.
        bic_code = account.bic.compact
    return (account.compact if account else None), bic_code, errors


def _reason(exc: Exception, reasons: dict[type, LazyString], fallback: LazyString) -> str:
    return str(next((text for kind, text in reasons.items() if isinstance(exc, kind)), fallback))
