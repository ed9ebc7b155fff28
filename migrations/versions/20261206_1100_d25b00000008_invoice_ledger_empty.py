"""a document whose ledger is empty: its first payment reads no ledger rows

Revision ID: d25b00000008
Revises: d25a00000007
Create Date: 2026-12-06 11:00:00

``invoice.ledger_empty``: true while no payment nor overpayment row was ever written for
the document, so the ledger skips reading them when it records its first payment. Set
for the documents that have none today; false (read them) otherwise.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d25b00000008"
down_revision = "d25a00000007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ledger_empty", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.execute(
        "UPDATE invoice SET ledger_empty = true"
        " WHERE NOT EXISTS (SELECT 1 FROM payment WHERE payment.invoice_id = invoice.id)"
        " AND NOT EXISTS (SELECT 1 FROM overpayment WHERE overpayment.invoice_id = invoice.id)"
    )


def downgrade():
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.drop_column("ledger_empty")
