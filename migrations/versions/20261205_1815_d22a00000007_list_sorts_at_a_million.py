"""the invoice list's remaining sorts read an index: kind, state, PDF, profile

Revision ID: d22a00000007
Revises: d24c00000006
Create Date: 2026-12-05 18:15:00

The list pages by position (``web.invoice_pages``): a page is the 50 rows after the last
one shown, in (sort value, id) order, read from an index on exactly that pair. The sorts
by due date, amount, amount due, days overdue, invoice date and number had theirs; the
sorts by kind, state and "PDF available" had none and sorted every document for each page
(``bench/overview.py`` at 1,000,000 documents: 0.2–2.4 s a page, the worst a deep page by
state, against 20–80 ms for the indexed sorts on the same loaded machine). The sort by
profile reads each profile's documents in id order, profile by profile in name order (the
names are unique): (profile_id, id), which also serves the foreign key's look-ups and so
takes the place of the index on profile_id alone.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd22a00000007'
down_revision = 'd24c00000006'
branch_labels = None
depends_on = None

# Exactly as the list orders by it (web.invoice_query's "pdf" sort key).
PDF = "(pdf_key IS NOT NULL)"
SORTS = (
    ('ix_invoice_kind_id', ['kind', 'id']),
    ('ix_invoice_state_id', ['state', 'id']),
    ('ix_invoice_pdf_id', [sa.text(PDF), 'id']),
    ('ix_invoice_profile_id_id', ['profile_id', 'id']),
)


def upgrade():
    for name, columns in SORTS:
        op.create_index(name, 'invoice', columns)
    op.drop_index('ix_invoice_profile_id', table_name='invoice')


def downgrade():
    op.create_index('ix_invoice_profile_id', 'invoice', ['profile_id'])
    for name, _columns in SORTS:
        op.drop_index(name, table_name='invoice')
