"""online checkouts: idempotency and overpayments

Revision ID: c10c0a000003
Revises: c10c0a000002
Create Date: 2026-12-03 13:45:00

"""
from alembic import op
import sqlalchemy as sa

import collector.core.columns


# revision identifiers, used by Alembic.
revision = 'c10c0a000003'
down_revision = 'c10c0a000002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('online_payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=160), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_online_payment_idempotency_key'), ['idempotency_key'])

    op.create_table('overpayment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('amount', collector.core.columns.Money(precision=14, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.Enum('open', 'refunded', 'kept', 'cleared', name='overpaymentstatus', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('online_payment_id', sa.Integer(), nullable=True),
    sa.Column('refund_id', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('resolved_by', sa.String(length=128), nullable=True),
    sa.Column('resolved_at', collector.core.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', collector.core.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', collector.core.columns.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_overpayment_invoice_id_invoice'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['online_payment_id'], ['online_payment.id'], name=op.f('fk_overpayment_online_payment_id_online_payment'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_overpayment'))
    )
    with op.batch_alter_table('overpayment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_overpayment_invoice_id'), ['invoice_id'], unique=False)
        batch_op.create_index('ix_overpayment_open_invoice', ['invoice_id'], unique=True, postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))


def downgrade():
    with op.batch_alter_table('overpayment', schema=None) as batch_op:
        batch_op.drop_index('ix_overpayment_open_invoice', postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.drop_index(batch_op.f('ix_overpayment_invoice_id'))

    op.drop_table('overpayment')

    with op.batch_alter_table('online_payment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_online_payment_idempotency_key'), type_='unique')
        batch_op.drop_column('idempotency_key')
