"""the company's time zone

Revision ID: c10c0a000001
Revises: 46dbc926b4d3
Create Date: 2026-12-03 13:45:00

"""
from alembic import op
import sqlalchemy as sa

import collector.core.columns


# revision identifiers, used by Alembic.
revision = 'c10c0a000001'
down_revision = '46dbc926b4d3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('company',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('time_zone_chosen', sa.Boolean(), nullable=False),
    sa.Column('updated_at', collector.core.columns.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_company'))
    )


def downgrade():
    op.drop_table('company')
