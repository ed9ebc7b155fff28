"""holds that pause chasing and debiting, and notes on documents and customers

Revision ID: d19b02000002
Revises: d19c03000003
Create Date: 2026-12-04 12:00:00

``hold``: a pause on one document or a whole customer (disputed, promise to pay until a
day, payment plan), who placed and lifted it, when and why. ``note``: free text on a
document or a customer. Both new tables: nothing existing changes.
"""
from alembic import op
import sqlalchemy as sa

from collector.core.columns import UTCDateTime


# revision identifiers, used by Alembic.
revision = 'd19b02000002'
down_revision = 'd19c03000003'
branch_labels = None
depends_on = None

STANDING_INVOICE = "lifted_at IS NULL AND invoice_id IS NOT NULL"
STANDING_CUSTOMER = "lifted_at IS NULL AND customer_id IS NOT NULL"


def upgrade():
    op.create_table(
        'hold',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('invoice_id', sa.Integer(), nullable=True),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column(
            'reason',
            sa.Enum(
                'disputed', 'promise', 'payment_plan',
                name='holdreason', native_enum=False, create_constraint=True, length=16,
            ),
            nullable=False,
        ),
        sa.Column('until', sa.Date(), nullable=True),
        sa.Column('note', sa.String(length=500), nullable=False),
        sa.Column('placed_by', sa.String(length=128), nullable=False),
        sa.Column('placed_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('lifted_by', sa.String(length=128), nullable=True),
        sa.Column('lifted_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('lift_note', sa.String(length=500), nullable=True),
        sa.Column('resume_told_at', UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            '(invoice_id IS NULL) <> (customer_id IS NULL)', name=op.f('ck_hold_one_subject')
        ),
        sa.CheckConstraint(
            "reason <> 'promise' OR until IS NOT NULL", name=op.f('ck_hold_promise_date')
        ),
        sa.ForeignKeyConstraint(
            ['customer_id'], ['customer.id'],
            name=op.f('fk_hold_customer_id_customer'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['invoice_id'], ['invoice.id'],
            name=op.f('fk_hold_invoice_id_invoice'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_hold')),
    )
    op.create_index(
        'ix_hold_standing_invoice', 'hold', ['invoice_id'],
        postgresql_where=sa.text(STANDING_INVOICE), sqlite_where=sa.text(STANDING_INVOICE),
    )
    op.create_index(
        'ix_hold_standing_customer', 'hold', ['customer_id'],
        postgresql_where=sa.text(STANDING_CUSTOMER), sqlite_where=sa.text(STANDING_CUSTOMER),
    )
    op.create_table(
        'note',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('invoice_id', sa.Integer(), nullable=True),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('author', sa.String(length=128), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            '(invoice_id IS NULL) <> (customer_id IS NULL)', name=op.f('ck_note_one_subject')
        ),
        sa.ForeignKeyConstraint(
            ['customer_id'], ['customer.id'],
            name=op.f('fk_note_customer_id_customer'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['invoice_id'], ['invoice.id'],
            name=op.f('fk_note_invoice_id_invoice'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_note')),
    )
    op.create_index(op.f('ix_note_customer_id'), 'note', ['customer_id'])
    op.create_index(op.f('ix_note_invoice_id'), 'note', ['invoice_id'])


def downgrade():
    op.drop_index(op.f('ix_note_invoice_id'), table_name='note')
    op.drop_index(op.f('ix_note_customer_id'), table_name='note')
    op.drop_table('note')
    op.drop_index('ix_hold_standing_customer', table_name='hold')
    op.drop_index('ix_hold_standing_invoice', table_name='hold')
    op.drop_table('hold')
