"""bank files: CODA and MT940 statements are known by their own kind

Revision ID: b3d5e0a00001
Revises: d1043ed67b42
Create Date: 2026-12-03 23:20:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "b3d5e0a00001"
down_revision = "d1043ed67b42"
branch_labels = None
depends_on = None

BEFORE = ("camt.053", "camt.054", "pain.002")
AFTER = (*BEFORE, "CODA", "MT940")


def _kinds(values):
    listed = ", ".join(f"'{v}'" for v in values)
    with op.batch_alter_table("bank_file", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_bank_file_bankfilekind"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_bank_file_bankfilekind"), sa.text(f"kind IN ({listed})")
        )


def upgrade():
    _kinds(AFTER)


def downgrade():
    # Statements read from CODA and MT940 are camt.053's records: they stay, as camt.053.
    op.execute("UPDATE bank_file SET kind = 'camt.053' WHERE kind IN ('CODA', 'MT940')")
    _kinds(BEFORE)
