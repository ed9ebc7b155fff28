"""What the suite counts, read from PostgreSQL rows (never from logs): a connection of
its own per question, so a scenario that terminates the app's connections keeps this one.

Statuses are stored by value (``collector.core.columns.enum_type``).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

import psycopg

from collector.documents.ledger import PAYABLE

OPEN_MAIL = ("waiting", "sending", "failed")
NOT_OVER = ("queued", "started")


def rows(database_url: str, query: str, params: dict | tuple = ()) -> list[tuple]:
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        return conn.execute(query, params).fetchall()


def value(database_url: str, query: str, params: dict | tuple = ()):
    found = rows(database_url, query, params)
    return found[0][0] if found else None


def payable(database_url: str) -> list[tuple]:
    """(id, Teamleader id, payment token, customer has an email) of every open invoice
    that may be paid online, oldest first."""
    return rows(
        database_url,
        """SELECT i.id, i.teamleader_id, i.payment_token, c.email IS NOT NULL AND c.email <> ''
             FROM invoice i JOIN profile p ON p.id = i.profile_id
             JOIN customer c ON c.id = i.customer_id
            WHERE i.kind = 'invoice' AND i.state = ANY(%s) AND i.amount_due > 0
              AND p.allow_payment_link ORDER BY i.id""",
        ([s.value for s in PAYABLE],),
    )


def latest_checkout(database_url: str, invoice_id: int) -> str | None:
    return value(
        database_url,
        "SELECT provider_id FROM online_payment WHERE invoice_id = %s ORDER BY id DESC LIMIT 1",
        (invoice_id,),
    )


def payments_recorded(database_url: str, provider_ids: list[str]) -> Counter:
    """Payment rows (that count) per provider payment id."""
    found = rows(
        database_url,
        """SELECT reference, count(*) FROM payment
            WHERE source = 'provider' AND kind = 'payment' AND cancelled_at IS NULL
              AND reference = ANY(%s) GROUP BY reference""",
        (list(provider_ids),),
    )
    return Counter(dict(found))


def documents_by_teamleader_id(database_url: str, teamleader_ids: list[str]) -> Counter:
    found = rows(
        database_url,
        "SELECT teamleader_id, count(*) FROM invoice WHERE teamleader_id = ANY(%s) "
        "GROUP BY teamleader_id",
        (list(teamleader_ids),),
    )
    return Counter(dict(found))


def invitations_missing(database_url: str, date_from: date, date_to: date) -> int:
    """Documents dated in the range that are owed an invitation on import (the profile
    sends one, an unpaid invoice with something due) and have no invitation row."""
    return value(
        database_url,
        """SELECT count(*) FROM invoice i JOIN profile p ON p.id = i.profile_id
            WHERE i.invoice_date BETWEEN %s AND %s AND p.send_invitation_on_import
              AND i.kind = 'invoice' AND i.state = ANY(%s) AND i.amount_due > 0
              AND NOT EXISTS (SELECT 1 FROM document_mail m
                               WHERE m.invoice_id = i.id AND m.kind = 'invitation')""",
        (date_from, date_to, [s.value for s in PAYABLE]),
    )


def imports_of_range(database_url: str, date_from: date, date_to: date) -> list[tuple]:
    """(id, status, job run id) of the imports of exactly this range, oldest first."""
    return rows(
        database_url,
        "SELECT id, status, job_run_id FROM document_import "
        "WHERE date_from = %s AND date_to = %s ORDER BY id",
        (date_from, date_to),
    )


def job_run(database_url: str, run_id: int | None = None, job_id: str | None = None):
    """(id, job id, name, status, progress done, progress total, counts, error)."""
    found = rows(
        database_url,
        "SELECT id, job_id, name, status, progress_done, progress_total, counts, error "
        "FROM job_run WHERE id = %s OR job_id = %s",
        (run_id, job_id),
    )
    return found[0] if found else None


def import_run_id(database_url: str, import_id: int) -> int | None:
    return value(database_url, "SELECT job_run_id FROM document_import WHERE id = %s", (import_id,))


def mail_statuses(database_url: str, invoice_ids: list[int]) -> Counter:
    """Invitation rows of these invoices, per status."""
    found = rows(
        database_url,
        "SELECT status, count(*) FROM document_mail WHERE invoice_id = ANY(%s) "
        "AND kind = 'invitation' GROUP BY status",
        (list(invoice_ids),),
    )
    return Counter(dict(found))


def invoice_numbers(database_url: str, invoice_ids: list[int]) -> dict[int, tuple[str, str]]:
    """Invoice id → (number, customer email)."""
    found = rows(
        database_url,
        "SELECT i.id, i.number, c.email FROM invoice i JOIN customer c ON c.id = i.customer_id "
        "WHERE i.id = ANY(%s)",
        (list(invoice_ids),),
    )
    return {row[0]: (row[1], row[2]) for row in found}


def terminate_backends(database_url: str, database: str) -> int:
    """Terminate every connection to ``database`` but this one; how many."""
    return value(
        database_url,
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> pg_backend_pid()",
        (database,),
    )


def import_problems(database_url: str, import_ids: list[int]) -> list[str]:
    """Teamleader ids the imports reported as skipped or failed (not "already here")."""
    found = rows(
        database_url,
        "SELECT p ->> 'teamleader_id' FROM document_import, json_array_elements(problems) p "
        "WHERE id = ANY(%s)",
        (list(import_ids),),
    )
    return [r[0] for r in found if r[0]]


def syncs_not_synced(database_url: str, invoice_ids: list[int]) -> int:
    """Teamleader sync rows of these invoices that are not ``synced`` (or missing)."""
    synced = value(
        database_url,
        "SELECT count(*) FROM teamleader_sync WHERE invoice_id = ANY(%s) AND status = 'synced'",
        (list(invoice_ids),),
    )
    return len(invoice_ids) - synced


def notifications_unhandled(database_url: str, provider_ids: list[str]) -> int | None:
    """Stored provider webhook calls for these payments still waiting to be handled; None
    when the app does not store them."""
    if value(database_url, "SELECT to_regclass('provider_notification')") is None:
        return None
    return value(
        database_url,
        "SELECT count(*) FROM provider_notification WHERE provider_id = ANY(%s) "
        "AND status = 'received'",
        (list(provider_ids),),
    )


def invoices_with_invitation(database_url: str, invoice_ids: list[int]) -> set[int]:
    found = rows(
        database_url,
        "SELECT DISTINCT invoice_id FROM document_mail WHERE invoice_id = ANY(%s) "
        "AND kind = 'invitation'",
        (list(invoice_ids),),
    )
    return {r[0] for r in found}


def sent_invitations(database_url: str, invoice_ids: list[int]) -> set[int]:
    found = rows(
        database_url,
        "SELECT DISTINCT invoice_id FROM document_mail WHERE invoice_id = ANY(%s) "
        "AND kind = 'invitation' AND status = 'sent'",
        (list(invoice_ids),),
    )
    return {r[0] for r in found}


def runs_not_over_since(database_url: str, since: datetime, before: datetime) -> Counter:
    """Runs created between ``since`` and ``before`` still queued or started, per name."""
    found = rows(
        database_url,
        "SELECT name, count(*) FROM job_run WHERE created_at BETWEEN %s AND %s "
        "AND status = ANY(%s) GROUP BY name",
        (since, before, list(NOT_OVER)),
    )
    return Counter(dict(found))
