"""sessions a person can end, and one-time links to choose a password

Revision ID: d20a00000002
Revises: d20000000001
Create Date: 2026-12-05 10:00:00

``user.session_generation``: kept in each session at login and compared on every request;
bumping it ends every session of that person. ``password_link``: the hash of a one-time
link that lets an invited user choose a password, or any user reset theirs.
"""
from alembic import op
import sqlalchemy as sa

from collector.core.columns import UTCDateTime


# revision identifiers, used by Alembic.
revision = 'd20a00000002'
down_revision = 'd20000000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user') as batch:
        batch.add_column(
            sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False)
        )
    op.create_table(
        'password_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column(
            'purpose',
            sa.Enum(
                'invitation', 'reset',
                name='linkpurpose', native_enum=False, create_constraint=True, length=16,
            ),
            nullable=False,
        ),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('used_at', UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user.id'],
            name=op.f('fk_password_link_user_id_user'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_password_link')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_password_link_token_hash')),
    )
    op.create_index(
        op.f('ix_password_link_user_id'), 'password_link', ['user_id'], unique=False
    )


def downgrade():
    op.drop_index(op.f('ix_password_link_user_id'), table_name='password_link')
    op.drop_table('password_link')
    with op.batch_alter_table('user') as batch:
        batch.drop_column('session_generation')
