"""the customer portal: one secret link per customer, and payments of several documents

Revision ID: d24b00000005
Revises: d20b00000003
Create Date: 2026-12-05 10:00:00

Every customer gets a portal token (256 random bits, made here for the existing ones);
a new table lists the documents an online payment of several pays.
"""
import secrets

from alembic import op
import sqlalchemy as sa

from collector.core.columns import Money


# revision identifiers, used by Alembic.
revision = 'd24b00000005'
down_revision = 'd20b00000003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('portal_token', sa.String(length=64), nullable=True))

    conn = op.get_bind()
    customer = sa.table('customer', sa.column('id', sa.Integer), sa.column('portal_token', sa.String))
    for (customer_id,) in conn.execute(sa.select(customer.c.id)).all():
        conn.execute(
            customer.update()
            .where(customer.c.id == customer_id)
            .values(portal_token=secrets.token_urlsafe(32))
        )

    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.alter_column('portal_token', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_customer_portal_token'), ['portal_token'])

    op.create_table(
        'online_payment_document',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('online_payment_id', sa.Integer(), nullable=False),
        sa.Column('invoice_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('amount', Money(precision=14, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ['invoice_id'], ['invoice.id'],
            name=op.f('fk_online_payment_document_invoice_id_invoice'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['online_payment_id'], ['online_payment.id'],
            name=op.f('fk_online_payment_document_online_payment_id_online_payment'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_online_payment_document')),
        sa.UniqueConstraint(
            'invoice_id', 'online_payment_id',
            name=op.f('uq_online_payment_document_invoice_id'),
        ),
        sa.UniqueConstraint(
            'position', 'online_payment_id',
            name=op.f('uq_online_payment_document_position'),
        ),
    )


def downgrade():
    op.drop_table('online_payment_document')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_customer_portal_token'), type_='unique')
        batch_op.drop_column('portal_token')
