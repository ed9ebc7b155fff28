"""the UI language a person picked

Revision ID: a18b0c1d2e3f
Revises: e7da5b0a0001
Create Date: 2026-12-04 03:00:00

``user.locale`` holds "nl_BE", "nl_NL", "fr_BE" or "en" (``accounts.languages``); empty,
the UI follows the browser's Accept-Language.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a18b0c1d2e3f'
down_revision = 'e7da5b0a0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user') as batch:
        batch.add_column(sa.Column('locale', sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table('user') as batch:
        batch.drop_column('locale')
