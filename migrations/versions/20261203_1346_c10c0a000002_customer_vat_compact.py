"""customers' VAT numbers in compact form for matching

Revision ID: c10c0a000002
Revises: c10c0a000001
Create Date: 2026-12-03 13:45:00

"""
from alembic import op
import sqlalchemy as sa
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError

import collector.core.columns


# revision identifiers, used by Alembic.
revision = 'c10c0a000002'
down_revision = 'c10c0a000001'
branch_labels = None
depends_on = None

BATCH = 1000

# The rule as it stood when this ran (collector.core.vat.read_vat), copied so the migration
# does not change when the application's code does.
PROBLEMS = {
    'InvalidComponent': 'country',
    'InvalidFormat': 'format',
    'InvalidLength': 'length',
    'InvalidChecksum': 'checksum',
}


def _canonical(compact):
    return ('EL' + compact[2:]) if compact.startswith('GR') else compact


def _read(typed, country):
    """(compact, problem) of a typed VAT number, read with the country when it lacks one."""
    text = (typed or '').strip()
    if not text:
        return None, None
    try:
        return _canonical(eu_vat.validate(text)), None
    except ValidationError as exc:
        problem = exc
    code = (country or '').strip().upper()
    prefix = {'GR': 'EL'}.get(code, code) if code.lower() in eu_vat.MEMBER_STATES else None
    head = ''.join(ch for ch in text if ch not in ' -./,').upper()[:2]
    has_prefix = head in ('EL', 'EU') or head.lower() in eu_vat.MEMBER_STATES
    if prefix and not has_prefix:
        try:
            return _canonical(eu_vat.validate(prefix + text)), None
        except ValidationError as exc:
            problem = exc
    return None, PROBLEMS.get(type(problem).__name__, 'invalid')


def upgrade():
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vat_compact', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('vat_problem', sa.String(length=16), nullable=True))
        batch_op.create_index(batch_op.f('ix_customer_vat_compact'), ['vat_compact'], unique=False)

    _backfill()


def _backfill():
    """Read every stored VAT number, in batches by id (no table held in memory)."""
    customer = sa.table(
        'customer',
        sa.column('id', sa.Integer),
        sa.column('country', sa.String),
        sa.column('vat_number', sa.String),
        sa.column('vat_compact', sa.String),
        sa.column('vat_problem', sa.String),
    )
    conn = op.get_bind()
    update = (
        customer.update()
        .where(customer.c.id == sa.bindparam('row_id'))
        .values(vat_compact=sa.bindparam('compact'), vat_problem=sa.bindparam('problem'))
    )
    last = 0
    while True:
        rows = conn.execute(
            sa.select(customer.c.id, customer.c.vat_number, customer.c.country)
            .where(customer.c.id > last, customer.c.vat_number.is_not(None))
            .order_by(customer.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        params = []
        for row_id, typed, country in rows:
            compact, problem = _read(typed, country)
            params.append({'row_id': row_id, 'compact': compact, 'problem': problem})
        conn.execute(update, params)
        last = rows[-1][0]


def downgrade():
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_vat_compact'))
        batch_op.drop_column('vat_problem')
        batch_op.drop_column('vat_compact')
