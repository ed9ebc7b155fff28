"""what needs a person, and the digests that tell the admins of it

Revision ID: d25a00000007
Revises: d22a00000007
Create Date: 2026-12-06 10:00:00

``operator_alert``: a row per thing that needs a person (a connection to fix, a document
Exact Online or Teamleader refuses, a failed job), one waiting row per kind and subject;
``operator_digest``: the mail that took them; ``digest_recipient``: the admins it is owed
to, crossed off as each is mailed.
"""

import sqlalchemy as sa
from alembic import op

from collector.core.columns import UTCDateTime

# revision identifiers, used by Alembic.
revision = "d25a00000007"
down_revision = "d22a00000007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "operator_digest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_digest")),
    )
    op.create_index(
        op.f("ix_operator_digest_created_at"), "operator_digest", ["created_at"], unique=False
    )
    op.create_table(
        "operator_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("fact", sa.String(length=500), nullable=False),
        sa.Column("endpoint", sa.String(length=64), nullable=False),
        sa.Column("first_seen", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen", UTCDateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("digest_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["digest_id"], ["operator_digest.id"],
            name=op.f("fk_operator_alert_digest_id_operator_digest"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_alert")),
    )
    op.create_index(
        op.f("ix_operator_alert_digest_id"), "operator_alert", ["digest_id"], unique=False
    )
    op.create_index(
        "uq_operator_alert_waiting", "operator_alert", ["kind", "subject"], unique=True,
        postgresql_where=sa.text("digest_id IS NULL"),
        sqlite_where=sa.text("digest_id IS NULL"),
    )
    op.create_table(
        "digest_recipient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("mailed_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["digest_id"], ["operator_digest.id"],
            name=op.f("fk_digest_recipient_digest_id_operator_digest"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"],
            name=op.f("fk_digest_recipient_user_id_user"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_recipient")),
        sa.UniqueConstraint(
            "digest_id", "user_id", name="uq_digest_recipient_digest_id_user_id"
        ),
    )


def downgrade():
    op.drop_table("digest_recipient")
    op.drop_index("uq_operator_alert_waiting", table_name="operator_alert")
    op.drop_index(op.f("ix_operator_alert_digest_id"), table_name="operator_alert")
    op.drop_table("operator_alert")
    op.drop_index(op.f("ix_operator_digest_created_at"), table_name="operator_digest")
    op.drop_table("operator_digest")
