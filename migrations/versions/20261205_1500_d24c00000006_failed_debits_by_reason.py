"""failed debits by their reason, and double payments for a person

Revision ID: d24c00000006
Revises: d24a00000004
Create Date: 2026-12-05 15:00:00

A profile's reason-code table (``return_rule``, only where it differs from the
defaults) and its retry limit and delay; a collection's attempt, next step and retry
day; a mail for a mandate that can no longer be used; bank transfers for a document
already paid wait for a person (``double_payment``), who refunds or keeps them.
"""

import sqlalchemy as sa
from alembic import op

from collector.core.columns import UTCDateTime

# revision identifiers, used by Alembic.
revision = "d24c00000006"
down_revision = "d24a00000004"
branch_labels = None
depends_on = None

MAIL_KINDS = ("invitation", "reminder")
TX_STATUSES = ("matched", "unmatched", "dismissed")
ACTIONS = ("retry", "mandate_unusable", "refund_claimed", "back_to_collect")


def _check(table, name, column, values):
    listed = ", ".join(f"'{v}'" for v in values)
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(name), type_="check")
        batch_op.create_check_constraint(op.f(name), sa.text(f"{column} IN ({listed})"))


def upgrade():
    op.create_table(
        "return_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column(
            "action",
            sa.Enum(*ACTIONS, name="returnaction", native_enum=False, create_constraint=True,
                    length=16),
            nullable=False,
        ),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"], ["profile.id"], name=op.f("fk_return_rule_profile_id_profile"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_rule")),
        sa.UniqueConstraint("profile_id", "code", name="uq_return_rule_profile_id_code"),
    )
    with op.batch_alter_table("profile", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("debit_retries", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.add_column(
            sa.Column("debit_retry_days", sa.Integer(), nullable=False, server_default="7")
        )
    with op.batch_alter_table("collection", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempt", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(
            sa.Column(
                "next_step",
                sa.Enum(*ACTIONS, name="returnaction", native_enum=False,
                        create_constraint=True, length=16),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("retry_on", sa.Date(), nullable=True))
    _check("document_mail", "ck_document_mail_documentmailkind", "kind",
           MAIL_KINDS + ("mandate_unusable",))
    _check("bank_transaction", "ck_bank_transaction_banktransactionstatus", "status",
           TX_STATUSES + ("double_payment", "refunded", "kept"))


def downgrade():
    op.execute(
        "UPDATE bank_transaction SET status = 'unmatched' WHERE status = 'double_payment'"
    )
    op.execute(
        "UPDATE bank_transaction SET status = 'dismissed' WHERE status IN ('refunded', 'kept')"
    )
    _check("bank_transaction", "ck_bank_transaction_banktransactionstatus", "status", TX_STATUSES)
    op.execute("DELETE FROM document_mail WHERE kind = 'mandate_unusable'")
    _check("document_mail", "ck_document_mail_documentmailkind", "kind", MAIL_KINDS)
    with op.batch_alter_table("collection", schema=None) as batch_op:
        # The enum's CHECK names the column: gone first, or SQLite's copy of the table
        # would keep a constraint on a column it no longer has.
        batch_op.drop_constraint(op.f("ck_collection_returnaction"), type_="check")
        batch_op.drop_column("retry_on")
        batch_op.drop_column("next_step")
        batch_op.drop_column("attempt")
    with op.batch_alter_table("profile", schema=None) as batch_op:
        batch_op.drop_column("debit_retry_days")
        batch_op.drop_column("debit_retries")
    op.drop_table("return_rule")
