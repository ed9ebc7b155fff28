"""What an import would mail, told in the import dialog before it starts (issue 19).

Reads the range's documents from Teamleader the way the import will (one list call per
100 documents per entity) and counts, for those not here yet, the invitations that would
go out at once, those the hold rule (``documents.held_mail``) would hold for a person,
and the reminders the next reminder run would send. The profile is the customer's, or
the default for a new customer; a custom field that names another profile is only read
by the import itself, so the dialog calls the figures an estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from collector.documents.held_mail import HoldRule, reminder_reached
from collector.documents.models import Customer, Invoice, Profile
from collector.extensions import db
from collector.teamleader import TeamleaderClient
from collector.teamleader.imports import list_documents
from collector.teamleader.models import DocumentImport, TeamleaderConnection


@dataclass(frozen=True)
class ImportPreview:
    listed: int  # invoices in the range, booked
    new: int  # of which not here yet
    invitations: int  # would be mailed at once (or as soon as their PDF is there)
    held: int  # would be held for a person (overdue or dated too far back)
    reminders: int  # the next reminder run would send
    hold_after_days: int
    mail_from: date | None


def preview_import(
    client: TeamleaderClient,
    connection: TeamleaderConnection,
    date_from: date,
    date_to: date,
    *,
    today: date,
    mail_old: bool,
) -> ImportPreview:
    """Count what importing ``date_from``–``date_to`` would mail; nothing is written."""
    probe = DocumentImport(date_from=date_from, date_to=date_to, teamleader_ids=[])
    invoices, _notes = list_documents(client, connection, probe)
    departments = set(connection.import_department_ids or [])
    invoices = [
        r
        for r in invoices
        if r.get("status") in ("outstanding", "matched")
        and (not departments or r.get("department_id") in departments)
    ]
    here = _here(r["id"] for r in invoices)
    new = [r for r in invoices if r["id"] not in here]
    rule = HoldRule.of(today, connection.hold_mail_after_days, opted_in=mail_old)
    profiles = _profiles(new, connection.default_profile_id)
    invitations = held = reminders = 0
    for record in new:
        profile = profiles.get(record["id"])
        if profile is None or not _open(record):
            continue
        holds = rule.holds(record.get("invoice_date"), record.get("due_on"))
        mailed = profile.send_invitation_on_import
        invitations += mailed and not holds
        held += mailed and holds
        if not (mailed and holds) and _reminded(profile, record.get("due_on"), today):
            reminders += 1
    return ImportPreview(
        listed=len(invoices),
        new=len(new),
        invitations=invitations,
        held=held,
        reminders=reminders,
        hold_after_days=rule.days,
        mail_from=rule.mail_from,
    )


def _here(ids) -> set[str]:
    ids = list(ids)
    if not ids:
        return set()
    query = sa.select(Invoice.teamleader_id).where(Invoice.teamleader_id.in_(ids))
    return set(db.session.scalars(query))


def _profiles(records: list[dict], default_profile_id: int | None) -> dict[str, Profile]:
    """Each record's likely profile: its customer's here, else the default a new one gets."""
    refs = {r.get("customer_id") for r in records} - {None}
    query = sa.select(Customer.teamleader_id, Customer.profile_id)
    chosen = dict(db.session.execute(query.where(Customer.teamleader_id.in_(refs))).all())
    wanted = set(chosen.values()) | {default_profile_id}
    rows = db.session.scalars(sa.select(Profile).where(Profile.id.in_(wanted)))
    profiles = {p.id: p for p in rows}
    found = {}
    for record in records:
        profile_id = chosen.get(record.get("customer_id")) or default_profile_id
        if profile_id in profiles:
            found[record["id"]] = profiles[profile_id]
    return found


def _open(record: dict) -> bool:
    """Booked, unpaid and with something due, as the import judges it."""
    if record.get("status") == "matched" or record.get("paid"):
        return False
    due = (record.get("total") or {}).get("due")  # a Decimal, read by the schema
    return due is None or due > 0


def _reminded(profile: Profile, due_on: date | None, today: date) -> bool:
    return due_on is not None and any(
        reminder_reached(due_on, step.days, today)
        for step in profile.dunning_steps
        if step.sends_mail
    )
