"""the audit log: one row per admin action or login

Revision ID: d20000000001
Revises: d19b02000002
Create Date: 2026-12-05 09:00:00

A new table only: nothing existing changes.
"""
from alembic import op
import sqlalchemy as sa

from collector.core.columns import UTCDateTime


# revision identifiers, used by Alembic.
revision = 'd20000000001'
down_revision = 'd19b02000002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'audit_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=254), nullable=False),
        sa.Column('action', sa.String(length=64), nullable=False),
        sa.Column('target', sa.String(length=200), nullable=False),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.Column('remote_addr', sa.String(length=45), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event')),
    )
    op.create_index('ix_audit_event_at', 'audit_event', ['at'], unique=False)
    op.create_index('ix_audit_event_action_at', 'audit_event', ['action', 'at'], unique=False)


def downgrade():
    op.drop_index('ix_audit_event_action_at', table_name='audit_event')
    op.drop_index('ix_audit_event_at', table_name='audit_event')
    op.drop_table('audit_event')
