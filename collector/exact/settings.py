"""The Exact Online settings: the administration, and mappings chosen from lists read there.

Nothing is typed in: journals, VAT codes, G/L accounts and payment conditions are read from
the chosen administration (reference §7), Teamleader's VAT rates from Teamleader, and every
saved choice is checked against those lists. Its refusals are written in the reader's
language: they reach the Exact Online page only.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _

from collector.accounts import audit, audit_changes
from collector.core.columns import utcnow
from collector.core.errors import Invalid
from collector.exact import ExactClient
from collector.exact.models import EntryNumbering, ExactConnection
from collector.extensions import db
from collector.teamleader import TeamleaderClient
from collector.teamleader.models import TeamleaderConnection

SALES_JOURNAL = 20
RETURN_JOURNAL = 21  # Exact's "return invoice" journal: credit notes (reference §5.7)
REVENUE = 110  # G/L account type of revenue accounts, the only kind a sales line may use
SALES_INVOICE_DOCUMENT = "Sales invoice"
# Teamleader payment terms (``{type, days}``) offered for mapping; the ones seen on documents
# are added as they turn up.
COMMON_TERMS = (
    "cash:0",
    "after_invoice_date:7",
    "after_invoice_date:14",
    "after_invoice_date:15",
    "after_invoice_date:21",
    "after_invoice_date:30",
    "after_invoice_date:45",
    "after_invoice_date:60",
    "end_of_month:0",
    "end_of_month:30",
    "end_of_month:60",
)


def rate_key(rate: Decimal) -> str:
    """A VAT rate as a mapping key: ``Decimal("0.210")`` → ``"0.21"``, zero → ``"0"``."""
    return format(Decimal(rate).normalize(), "f")


def rate_label(key: str) -> str:
    return f"{format((Decimal(key) * 100).normalize(), 'f')} %"


def term_key(term: dict | None) -> str | None:
    """A Teamleader payment term as a mapping key: ``after_invoice_date:30``."""
    if not term or not term.get("type"):
        return None
    return f"{term['type']}:{int(term.get('days') or 0)}"


def choose_division(
    connection: ExactConnection,
    division: int,
    exact: ExactClient,
    teamleader: TeamleaderClient | None,
) -> ExactConnection:
    """Store the administration and read its lists; mappings of another one are dropped."""
    divisions = {d["code"]: d for d in (connection.choices or {}).get("divisions") or []}
    if division not in divisions:
        raise Invalid({"division": [_("Choose one of the administrations this user may use.")]})
    if connection.division != division:
        details = {"area": "exact", "fields": ["division"], "division": division}
        audit.record("settings.changed", details=details)
        connection.invoice_journal = connection.credit_note_journal = None
        connection.vat_codes, connection.gl_accounts, connection.payment_conditions = {}, {}, {}
        connection.forwarding = False
    connection.division = division
    connection.division_name = divisions[division]["name"]
    read_choices(connection, exact, teamleader)
    return connection


def read_choices(
    connection: ExactConnection, exact: ExactClient, teamleader: TeamleaderClient | None
) -> ExactConnection:
    """Read the lists the settings choose from (about five calls to Exact, one to Teamleader)."""
    choices = dict(connection.choices or {})
    choices["journals"] = [
        {"code": j["Code"], "name": j.get("Description") or j["Code"], "type": j.get("Type")}
        for j in exact.journals()
        if j.get("Type") in (SALES_JOURNAL, RETURN_JOURNAL) and not j.get("IsBlocked")
    ]
    choices["vat_codes"] = [
        {
            "code": v["Code"],
            "name": v.get("Description") or v["Code"].strip(),
            "percentage": str(v.get("Percentage") if v.get("Percentage") is not None else ""),
            "type": v.get("Type"),
        }
        for v in exact.vat_codes()
        if not v.get("IsBlocked") and v.get("VATTransactionType") in ("S", "B", None)
    ]
    choices["gl_accounts"] = [
        {"id": g["ID"], "code": g["Code"].strip(), "name": g.get("Description") or ""}
        for g in exact.gl_accounts()
        if g.get("Type") == REVENUE and not g.get("IsBlocked")
    ]
    choices["payment_conditions"] = [
        {
            "code": p["Code"],
            "name": p.get("Description") or p["Code"],
            "days": p.get("PaymentDays"),
        }
        for p in exact.payment_conditions()
    ]
    # Document type ids can differ per setup (reference §6): look "Sales invoice" up.
    types = {t.get("Description"): t.get("ID") for t in exact.document_types()}
    choices["document_type"] = types.get(SALES_INVOICE_DOCUMENT, 10)
    if teamleader is not None:
        choices["tax_rates"] = [
            {
                "id": t["id"],
                "rate": rate_key(t["rate"]),
                "department_id": t.get("department_id"),
                "description": t.get("description"),
            }
            for t in teamleader.tax_rates_list()
        ]
    choices.setdefault("payment_terms", list(COMMON_TERMS))
    connection.choices = choices
    connection.choices_read_at = utcnow()
    db.session.commit()
    return connection


def rates_to_map(connection: ExactConnection) -> list[str]:
    """Teamleader's VAT rates of the forwarded departments, highest first."""
    departments = set(connection.department_ids or [])
    rates = {
        t["rate"]
        for t in (connection.choices or {}).get("tax_rates") or []
        if not departments or t.get("department_id") in departments
    }
    return sorted(rates, key=Decimal, reverse=True)


def note_term(connection: ExactConnection, key: str) -> None:
    """Offer a payment term met on a document for mapping (it was not in the list)."""
    terms = list((connection.choices or {}).get("payment_terms") or COMMON_TERMS)
    if key not in terms:
        connection.choices = {**(connection.choices or {}), "payment_terms": [*terms, key]}


SETTINGS_FIELDS = (
    "invoice_journal",
    "credit_note_journal",
    "sync_credit_notes",
    "department_ids",
    "vat_codes",
    "gl_accounts",
    "payment_conditions",
    "only_sent",
    "start_date",
    "skip_email_match",
    "entry_numbers",
    "read_payments",
    "alert_after",
    "forwarding",
)


def save_settings(
    connection: ExactConnection, data: dict, teamleader: TeamleaderConnection | None
) -> ExactConnection:
    """Check ``data`` against the lists read from Exact and Teamleader, then store it.

    ``data``: invoice_journal, credit_note_journal, department_ids, vat_codes {rate: code},
    gl_accounts {rate: id}, payment_conditions {term: code}, sync_credit_notes, only_sent,
    start_date, skip_email_match, entry_numbers, read_payments, alert_after.
    """
    choices = connection.choices or {}
    errors: dict[str, list[str]] = {}
    journals = {j["code"]: j for j in choices.get("journals") or []}
    invoice_journal = data.get("invoice_journal") or None
    if invoice_journal is None or journals.get(invoice_journal, {}).get("type") != SALES_JOURNAL:
        errors["invoice_journal"] = [_("Choose a sales journal of the administration.")]
    sync_credit_notes = bool(data.get("sync_credit_notes"))
    credit_journal = data.get("credit_note_journal") or None
    if sync_credit_notes and credit_journal not in journals:
        errors["credit_note_journal"] = [_("Choose the journal credit notes are booked in.")]
    departments = list(data.get("department_ids") or [])
    known = {d["id"] for d in (teamleader.departments if teamleader else [])}
    if not set(departments) <= known:
        errors["department_ids"] = [_("Choose departments of the connected Teamleader account.")]
    vat_codes = _mapping(data.get("vat_codes"), {v["code"] for v in _exclusive(choices)})
    if vat_codes is None:
        errors["vat_codes"] = [
            _(
                "Choose VAT codes of the administration of type 'excluding': Teamleader's "
                "amounts are always excluding VAT."
            )
        ]
    else:
        errors.update(vat_rate_errors(vat_codes, choices))
    gl_accounts = _mapping(
        data.get("gl_accounts"), {g["id"] for g in choices.get("gl_accounts") or []}
    )
    if gl_accounts is None:
        errors["gl_accounts"] = [_("Choose revenue G/L accounts of the administration.")]
    conditions = _mapping(
        data.get("payment_conditions"), {p["code"] for p in choices.get("payment_conditions") or []}
    )
    if conditions is None:
        errors["payment_conditions"] = [_("Choose payment conditions of the administration.")]
    start = data.get("start_date")
    if start is not None and not isinstance(start, date):
        errors["start_date"] = [_("Give a date.")]
    try:
        numbering = EntryNumbering(data.get("entry_numbers") or EntryNumbering.EXACT)
    except ValueError:
        errors["entry_numbers"] = [_("Choose who numbers the entries.")]
    alert_after = data.get("alert_after")
    alert_after = 3 if alert_after is None else alert_after
    if not isinstance(alert_after, int) or not 1 <= alert_after <= 50:
        errors["alert_after"] = [_("Give a number of runs between 1 and 50.")]
    if errors:
        raise Invalid(errors)
    before = audit_changes.snapshot(connection, SETTINGS_FIELDS)
    connection.invoice_journal = invoice_journal
    connection.credit_note_journal = credit_journal
    connection.sync_credit_notes = sync_credit_notes
    connection.department_ids = departments
    connection.vat_codes = vat_codes
    connection.gl_accounts = gl_accounts
    connection.payment_conditions = conditions
    connection.only_sent = bool(data.get("only_sent"))
    connection.start_date = start
    connection.skip_email_match = bool(data.get("skip_email_match"))
    connection.entry_numbers = numbering
    connection.read_payments = bool(data.get("read_payments"))
    connection.alert_after = alert_after
    connection.forwarding = True
    audit_changes.record_changes("settings.changed", before, connection, area="exact")
    db.session.commit()
    return connection


def vat_fraction(value) -> Decimal | None:
    """An Exact VAT code's ``Percentage`` as a fraction (0.21), None when unknown.

    Exact's VATCodes give a fraction (reference §7: 0.21 is 21 %); a value above 1 is read
    as a percentage, in case an administration or a proxy spells it so (unverified).
    """
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number / 100 if number > 1 else number


def vat_rate_errors(vat_codes: dict[str, str], choices: dict) -> dict[str, list[str]]:
    """One message per Teamleader rate mapped to an Exact VAT code of another percentage
    (a 0 % code for the 9 % rate would book 0 % with a 9 % VAT amount), keyed
    ``vat_codes.<rate>``."""
    codes = {v["code"]: v for v in choices.get("vat_codes") or []}
    errors: dict[str, list[str]] = {}
    for rate, code in vat_codes.items():
        chosen = codes[code]
        name = f"{code.strip()} — {chosen.get('name') or code.strip()}"
        fraction = vat_fraction(chosen.get("percentage"))
        if fraction is None:
            message = _(
                "Exact gave no percentage for VAT code %(code)s; read the lists again, "
                "or choose another code.",
                code=name,
            )
        elif fraction != Decimal(rate):
            message = _(
                "VAT code %(code)s is %(exact_rate)s in Exact, but this Teamleader rate is "
                "%(rate)s: choose a code of %(rate)s.",
                code=name,
                exact_rate=rate_label(rate_key(fraction)),
                rate=rate_label(rate),
            )
        else:
            continue
        errors[f"vat_codes.{rate}"] = [message]
    return errors


def suggested_vat_codes(connection: ExactConnection) -> dict[str, str]:
    """For each Teamleader rate not mapped yet, the Exact code of that very percentage: the
    first of type 'excluding', else the first without VAT (for 0 %); none when there is none."""
    choices = connection.choices or {}
    saved = connection.vat_codes or {}
    suggestions = {}
    for rate in rates_to_map(connection):
        if saved.get(rate):
            continue
        fitting = [
            v for v in _exclusive(choices) if vat_fraction(v.get("percentage")) == Decimal(rate)
        ]
        fitting.sort(key=lambda v: v.get("type") != "E")
        if fitting:
            suggestions[rate] = fitting[0]["code"]
    return suggestions


def _exclusive(choices: dict) -> list[dict]:
    """VAT codes Teamleader's amounts fit: excluding VAT, or no/zero VAT (reference §7)."""
    return [v for v in choices.get("vat_codes") or [] if v.get("type") in ("E", "B", "N", None)]


def _mapping(value, allowed: set[str]) -> dict[str, str] | None:
    """A mapping whose values are all in ``allowed`` (empty values dropped), else None."""
    mapping = {str(k): v for k, v in (value or {}).items() if v}
    return mapping if set(mapping.values()) <= allowed else None
