"""the payment provider connection's state

Revision ID: a27c0a000001
Revises: b3d5e0a00001
Create Date: 2026-12-03 23:30:00

"""
from alembic import op
import sqlalchemy as sa

import collector.core.columns


# revision identifiers, used by Alembic.
revision = 'a27c0a000001'
down_revision = 'b3d5e0a00001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('provider_status',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('problem', sa.Enum('key_rejected', 'webhook_refused', name='providerproblem', native_enum=False, create_constraint=True, length=16), nullable=True),
    sa.Column('since', collector.core.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('detail', sa.String(length=300), nullable=False),
    sa.Column('checked_at', collector.core.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('alerted_at', collector.core.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', collector.core.columns.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_status'))
    )


def downgrade():
    op.drop_table('provider_status')
