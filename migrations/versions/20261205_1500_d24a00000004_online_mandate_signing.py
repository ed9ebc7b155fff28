"""mandates signed online: each customer's signing link, the evidence of a signature, B2B

Revision ID: d24a00000004
Revises: d24b00000005
Create Date: 2026-12-05 15:00:00

``signing_link``: one unguessable token per customer, the address of their signing page.
``mandate_signature``: when, from where and by whom a mandate was signed online, the
exact text shown and its language, the creditor, the PDF; and its revocation from the
same page. ``profile.allow_b2b_mandates``: whether customers on the profile may sign a
B2B mandate online (existing profiles: no).
"""
from alembic import op
import sqlalchemy as sa

from collector.core.columns import UTCDateTime


# revision identifiers, used by Alembic.
revision = 'd24a00000004'
down_revision = 'd24b00000005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('profile') as batch_op:
        batch_op.add_column(
            sa.Column(
                'allow_b2b_mandates', sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    # The model has no server default: every insert says what it means.
    with op.batch_alter_table('profile') as batch_op:
        batch_op.alter_column('allow_b2b_mandates', server_default=None)
    op.create_table(
        'signing_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=43), nullable=False),
        sa.Column('created_by', sa.String(length=128), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['customer_id'], ['customer.id'],
            name=op.f('fk_signing_link_customer_id_customer'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_signing_link')),
        sa.UniqueConstraint('customer_id', name=op.f('uq_signing_link_customer_id')),
        sa.UniqueConstraint('token', name=op.f('uq_signing_link_token')),
    )
    op.create_table(
        'mandate_signature',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('mandate_id', sa.Integer(), nullable=False),
        sa.Column('creditor_id', sa.Integer(), nullable=True),
        sa.Column('signed_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('ip_address', sa.String(length=45), nullable=False),
        sa.Column('user_agent', sa.String(length=500), nullable=False),
        sa.Column('language', sa.String(length=2), nullable=False),
        sa.Column('mandate_text', sa.Text(), nullable=False),
        sa.Column('signatory_name', sa.String(length=70), nullable=False),
        sa.Column('signatory_email', sa.String(length=254), nullable=False),
        sa.Column('debtor_address', sa.String(length=300), nullable=False),
        sa.Column('pdf_key', sa.String(length=64), nullable=False),
        sa.Column('revoked_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('revoked_ip_address', sa.String(length=45), nullable=True),
        sa.Column('revoked_user_agent', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ['creditor_id'], ['creditor.id'],
            name=op.f('fk_mandate_signature_creditor_id_creditor'), ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['mandate_id'], ['mandate.id'],
            name=op.f('fk_mandate_signature_mandate_id_mandate'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mandate_signature')),
        sa.UniqueConstraint('mandate_id', name=op.f('uq_mandate_signature_mandate_id')),
    )
    op.create_index(
        op.f('ix_mandate_signature_creditor_id'), 'mandate_signature', ['creditor_id']
    )


def downgrade():
    op.drop_index(op.f('ix_mandate_signature_creditor_id'), table_name='mandate_signature')
    op.drop_table('mandate_signature')
    op.drop_table('signing_link')
    with op.batch_alter_table('profile') as batch_op:
        batch_op.drop_column('allow_b2b_mandates')
