"""what the outbox knows Teamleader holds, so a payment is registered without a read

Revision ID: c28a11ce0001
Revises: a18b0c1d2e3f
Create Date: 2026-12-04 04:00:00

``teamleader_sync.entries``: Teamleader's payments of the document as the outbox knows
them ([amount, day] pairs; NULL: not known, read before writing). ``unsettled``: the
deliveries claimed whose effect on Teamleader was not recorded (a crash, a timeout); a
delivery that finds one reads Teamleader before it writes. Existing rows start unknown.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c28a11ce0001'
down_revision = 'a18b0c1d2e3f'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('teamleader_sync') as batch:
        batch.add_column(sa.Column('entries', sa.JSON(), nullable=True))
        batch.add_column(
            sa.Column('unsettled', sa.Integer(), nullable=False, server_default='0')
        )
    with op.batch_alter_table('teamleader_sync') as batch:
        batch.alter_column('unsettled', existing_type=sa.Integer(), server_default=None)


def downgrade():
    with op.batch_alter_table('teamleader_sync') as batch:
        batch.drop_column('unsettled')
        batch.drop_column('entries')
