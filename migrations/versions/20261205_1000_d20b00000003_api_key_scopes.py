"""API keys get scopes and an optional expiry date

Revision ID: d20b00000003
Revises: d20a00000002
Create Date: 2026-12-05 10:00:00

``api_key.scopes``: what a key may do (``read``, ``write:payments``, ``write:imports``,
``write:profiles``). ``api_key.expires_on``: the last company-local day it works (empty:
until revoked).

Keys that exist before this migration keep full access: every one of them is given all
the scopes, so no integration that already runs on a key breaks. An admin can narrow
them by creating a key with fewer scopes and revoking the old one.
"""
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd20b00000003'
down_revision = 'd20a00000002'
branch_labels = None
depends_on = None

ALL_SCOPES = ['read', 'write:payments', 'write:imports', 'write:profiles']


def upgrade():
    with op.batch_alter_table('api_key', schema=None) as batch:
        batch.add_column(
            sa.Column('scopes', sa.JSON(), nullable=False, server_default=json.dumps(ALL_SCOPES))
        )
        batch.add_column(sa.Column('expires_on', sa.Date(), nullable=True))
    # The default served the rows that existed (all scopes); new keys name theirs.
    with op.batch_alter_table('api_key', schema=None) as batch:
        batch.alter_column('scopes', server_default=None)


def downgrade():
    with op.batch_alter_table('api_key', schema=None) as batch:
        batch.drop_column('expires_on')
        batch.drop_column('scopes')
