"""safe automatic mail: held invitations, the age past which an import holds them, opt-in

Revision ID: d19a01000001
Revises: d19d04000004
Create Date: 2026-12-04 11:30:00

An import no longer mails documents that are overdue or older than the connection's
``hold_mail_after_days`` (14 by default): their invitation is ``held`` until a person
releases it. A manual import can opt in (``mail_old_documents``).
"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "d19a01000001"
down_revision = "d19d04000004"
branch_labels = None
depends_on = None

MAIL_STATUSES = ("waiting", "sending", "sent", "failed", "uncertain", "cancelled")


def _mail_statuses(values):
    listed = ", ".join(f"'{v}'" for v in values)
    with op.batch_alter_table("document_mail", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_document_mail_documentmailstatus"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_document_mail_documentmailstatus"), sa.text(f"status IN ({listed})")
        )


def upgrade():
    with op.batch_alter_table("teamleader_connection", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("hold_mail_after_days", sa.Integer(), nullable=False, server_default="14")
        )
    with op.batch_alter_table("document_import", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("mail_old_documents", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    _mail_statuses(MAIL_STATUSES + ("held",))


def downgrade():
    op.execute("UPDATE document_mail SET status = 'cancelled' WHERE status = 'held'")
    _mail_statuses(MAIL_STATUSES)
    with op.batch_alter_table("document_import", schema=None) as batch_op:
        batch_op.drop_column("mail_old_documents")
    with op.batch_alter_table("teamleader_connection", schema=None) as batch_op:
        batch_op.drop_column("hold_mail_after_days")
