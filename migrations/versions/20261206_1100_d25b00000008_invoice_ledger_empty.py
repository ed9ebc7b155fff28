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


# Plain ALTER TABLE, not batch mode: on SQLite a batch that drops a column copies the
# table, and the copy loses the expression indexes SQLAlchemy cannot reflect
# (ix_invoice_pdf_id and the like), which later downgrades then fail to drop. SQLite has
# ADD and DROP COLUMN itself (3.35+).


def upgrade():
    op.add_column(
        "invoice",
        sa.Column("ledger_empty", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.execute(
        "UPDATE invoice SET ledger_empty = true"
        " WHERE NOT EXISTS (SELECT 1 FROM payment WHERE payment.invoice_id = invoice.id)"
        " AND NOT EXISTS (SELECT 1 FROM overpayment WHERE overpayment.invoice_id = invoice.id)"
    )


def downgrade():
    op.drop_column("invoice", "ledger_empty")
