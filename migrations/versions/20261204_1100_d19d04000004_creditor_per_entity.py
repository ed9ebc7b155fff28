"""each company entity collects as itself: a creditor per Teamleader department

Revision ID: d19d04000004
Revises: d7e1a9c4b2f0
Create Date: 2026-12-04 11:00:00

``creditor.department_id`` names the entity a row collects for; the row without one is
the company default. The creditor gains what customers see (address, contact details,
logo) and the mails' sender. The current creditor is copied onto every entity known
(the Teamleader connection's departments and the documents' ones), so an existing
install collects, mails and shows exactly as before. A collection run names the account
its file credits.
"""
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd19d04000004'
down_revision = 'd7e1a9c4b2f0'
branch_labels = None
depends_on = None

COPIED = (
    'name', 'iban', 'bic', 'creditor_identifier', 'prenotification_days', 'pain_version',
    'updated_at',
)


def upgrade():
    with op.batch_alter_table('creditor') as batch:
        batch.add_column(sa.Column('department_id', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('address', sa.String(length=300), nullable=False, server_default=''))
        batch.add_column(sa.Column('contact_email', sa.String(length=254), nullable=False, server_default=''))
        batch.add_column(sa.Column('contact_phone', sa.String(length=40), nullable=False, server_default=''))
        batch.add_column(sa.Column('sender_name', sa.String(length=140), nullable=False, server_default=''))
        batch.add_column(sa.Column('sender_email', sa.String(length=254), nullable=False, server_default=''))
        batch.add_column(sa.Column('logo_key', sa.String(length=128), nullable=True))
        batch.add_column(sa.Column('logo_type', sa.String(length=20), nullable=True))
        batch.create_unique_constraint('uq_creditor_department_id', ['department_id'])
    with op.batch_alter_table('creditor') as batch:
        for column in ('address', 'contact_email', 'contact_phone', 'sender_name', 'sender_email'):
            batch.alter_column(column, server_default=None)
    with op.batch_alter_table('collection_run') as batch:
        batch.add_column(sa.Column('creditor_name', sa.String(length=140), nullable=True))
        batch.add_column(sa.Column('creditor_iban', sa.String(length=34), nullable=True))
    _copy_onto_entities()


def _copy_onto_entities():
    bind = op.get_bind()
    creditor = sa.table(
        'creditor',
        sa.column('id'),
        sa.column('department_id'),
        *(sa.column(name) for name in COPIED),
        *(sa.column(name) for name in ('address', 'contact_email', 'contact_phone', 'sender_name', 'sender_email')),
    )
    current = bind.execute(
        sa.select(*(creditor.c[name] for name in COPIED)).order_by(creditor.c.id).limit(1)
    ).mappings().first()
    if current is None:
        return
    for department_id in sorted(_known_entities(bind)):
        bind.execute(
            creditor.insert().values(
                department_id=department_id,
                address='', contact_email='', contact_phone='', sender_name='', sender_email='',
                **current,
            )
        )


def _known_entities(bind) -> set:
    found = set()
    for (departments,) in bind.execute(sa.text('SELECT departments FROM teamleader_connection')):
        if isinstance(departments, str):
            departments = json.loads(departments)
        found.update(d['id'] for d in departments or [] if d.get('id'))
    documents = bind.execute(
        sa.text('SELECT DISTINCT department_id FROM invoice WHERE department_id IS NOT NULL')
    )
    found.update(department_id for (department_id,) in documents)
    return {department_id[:64] for department_id in found}


def downgrade():
    op.execute('DELETE FROM creditor WHERE department_id IS NOT NULL')
    with op.batch_alter_table('collection_run') as batch:
        batch.drop_column('creditor_iban')
        batch.drop_column('creditor_name')
    with op.batch_alter_table('creditor') as batch:
        batch.drop_constraint('uq_creditor_department_id', type_='unique')
        for column in (
            'logo_type', 'logo_key', 'sender_email', 'sender_name', 'contact_phone',
            'contact_email', 'address', 'department_id',
        ):
            batch.drop_column(column)
