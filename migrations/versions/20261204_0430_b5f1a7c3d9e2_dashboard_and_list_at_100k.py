"""indexes for the dashboard and the invoice list at 100,000 documents

Revision ID: b5f1a7c3d9e2
Revises: c28a11ce0001
Create Date: 2026-12-04 04:30:00

Measured with ``bench/dashboard.py`` and ``bench/overview.py`` (EXPLAIN ANALYZE, backend
CPU per statement):

- the list sorted by signed amount or by days overdue sorted every document for a page
  of 50 (45-50 ms); an index on the very expression it orders by gives the page in under
  a millisecond. The expressions must stay exactly those of ``web.invoice_query``
  (``SIGNED_AMOUNT``, the "overdue" sort key), which ``tests/test_list_indexes.py`` checks;
- the announced direct debits read every mail (9 ms): a partial index of the sent mails
  that announce one, in the order "latest per document" is taken;
- money in read every payment (12 ms), and per company entity every document by hash
  (40 ms): an index on when a payment happened, and one on (department_id, id);
- unapplied credit read every credit note (7 ms), and the 90 days' sales their rows
  (8 ms): a partial index and a covering (kind, invoice_date) index answer from the index;
- collections by status (came back, still to collect) read the table: (status, date);
- a refused PDF is one of few: a partial index, which also keeps the needs-attention
  statement small enough that PostgreSQL no longer starts parallel workers for it.

The covering (INCLUDE) parts exist on PostgreSQL only; SQLite gets the same indexes
without them (so the schema matches the models everywhere). Two existing indexes gain
columns on PostgreSQL: ``ix_invoice_open_due`` (the id, kind and total: the dashboard's
announced debits and the list's "owed" totals from the index alone) and
``ix_invoice_kind_invoice_date`` (what the sales figure adds up).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b5f1a7c3d9e2'
down_revision = 'c28a11ce0001'
branch_labels = None
depends_on = None

OWED = "kind = 'invoice' AND state IN ('BOOKED', 'EXPIRED', 'PENDING') AND amount_due > 0"
ANNOUNCED = "status = 'sent' AND direct_debit_on IS NOT NULL"
UNAPPLIED = (
    "kind = 'credit_note' AND credited_invoice_id IS NULL"
    " AND credited_teamleader_id IS NULL AND teamleader_paid_at IS NULL"
)
PDF_REFUSED = "pdf_key IS NULL AND pdf_failures > 0"
# Exactly as the list orders by them (web.invoice_query); 0.00 as the amount is bound.
SIGNED_AMOUNT = "(CASE WHEN kind = 'credit_note' THEN -total_incl_vat ELSE total_incl_vat END)"
OVERDUE = (
    "(CASE WHEN kind = 'invoice' AND state IN ('BOOKED', 'EXPIRED', 'PENDING')"
    " AND amount_due > 0.00 THEN due_date END)"
)

# (name, table, columns, PostgreSQL INCLUDE, partial WHERE)
NEW = (
    ('ix_document_mail_announced', 'document_mail', ['invoice_id', 'sent_at', 'id'],
     ['direct_debit_on', 'direct_debit_mandate_id', 'direct_debit_amount'], ANNOUNCED),
    ('ix_collection_status_date', 'collection', ['status', 'collection_date'],
     ['invoice_id', 'amount', 'run_id'], None),
    ('ix_payment_occurred_at', 'payment', ['occurred_at'],
     ['id', 'amount', 'currency', 'source', 'cancelled_at', 'reverses_id', 'invoice_id'], None),
    ('ix_invoice_unapplied_credit', 'invoice', ['currency'],
     ['total_incl_vat', 'department_id'], UNAPPLIED),
    ('ix_invoice_pdf_refused', 'invoice', ['id'], [], PDF_REFUSED),
    ('ix_invoice_department_id_id', 'invoice', ['department_id', 'id'], [], None),
)
EXPRESSIONS = (
    ('ix_invoice_signed_amount_id', [SIGNED_AMOUNT, 'id']),
    ('ix_invoice_overdue_id', [OVERDUE, 'id DESC']),
)
OPEN_DUE_BEFORE = ['amount_due', 'customer_id', 'profile_id', 'department_id', 'currency', 'state']
OPEN_DUE_AFTER = OPEN_DUE_BEFORE + ['id', 'kind', 'total_incl_vat']
SALES_INCLUDE = ['payable', 'total_incl_vat', 'currency', 'department_id']


def _postgresql() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def _open_due(include):
    op.drop_index('ix_invoice_open_due', table_name='invoice')
    op.create_index(
        'ix_invoice_open_due', 'invoice', ['due_date'],
        postgresql_include=include, postgresql_where=sa.text(OWED),
    )


def _kind_invoice_date(include):
    op.drop_index('ix_invoice_kind_invoice_date', table_name='invoice')
    op.create_index(
        'ix_invoice_kind_invoice_date', 'invoice', ['kind', 'invoice_date'],
        postgresql_include=include,
    )


def upgrade():
    for name, table, columns, include, where in NEW:
        partial = {} if where is None else {
            'postgresql_where': sa.text(where), 'sqlite_where': sa.text(where)
        }
        op.create_index(name, table, columns, postgresql_include=include, **partial)
    for name, expressions in EXPRESSIONS:
        op.create_index(name, 'invoice', [sa.text(e) for e in expressions])
    if _postgresql():
        _open_due(OPEN_DUE_AFTER)
        _kind_invoice_date(SALES_INCLUDE)


def downgrade():
    if _postgresql():
        _kind_invoice_date([])
        _open_due(OPEN_DUE_BEFORE)
    for name, _expressions in EXPRESSIONS:
        op.drop_index(name, table_name='invoice')
    for name, table, _columns, _include, _where in NEW:
        op.drop_index(name, table_name=table)
