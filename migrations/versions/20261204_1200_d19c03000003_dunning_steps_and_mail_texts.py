"""dunning steps per profile and mail texts the team can edit (issue 19, parts 2 and 4)

Revision ID: d19c03000003
Revises: d19a01000001
Create Date: 2026-12-04 12:00:00

A profile's ``reminder_days`` (e.g. [7, 21]) become its dunning steps, one reminder per
day, so an existing install keeps sending the same reminders: the steps' mails keep the
keys ``reminder:<days>``, and what was sent before is not sent again.
"""

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d19c03000003"
down_revision = "d19a01000001"
branch_labels = None
depends_on = None

STEP_KINDS = ("reminder", "final_notice", "hand_off")


def upgrade():
    bind = op.get_bind()
    # Read before the column goes, and drop it before the steps exist: SQLite's batch mode
    # rebuilds the profile table, and a cascade would take rows that point at it along.
    profiles = bind.execute(sa.text("SELECT id, reminder_days FROM profile")).all()
    with op.batch_alter_table("profile", schema=None) as batch_op:
        batch_op.drop_column("reminder_days")
    op.create_table(
        "dunning_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                *STEP_KINDS, name="stepkind", native_enum=False, create_constraint=True, length=16
            ),
            nullable=False,
        ),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profile.id"],
            name=op.f("fk_dunning_step_profile_id_profile"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dunning_step")),
        sa.UniqueConstraint("profile_id", "days", name="uq_dunning_step_profile_id_days"),
    )
    op.create_table(
        "mail_text",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.String(length=32), nullable=False),
        sa.Column("step_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profile.id"],
            name=op.f("fk_mail_text_profile_id_profile"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["step_id"],
            ["dunning_step.id"],
            name=op.f("fk_mail_text_step_id_dunning_step"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_text")),
        sa.UniqueConstraint(
            "profile_id", "slot", "language", name="uq_mail_text_profile_id_slot_language"
        ),
    )
    bind = op.get_bind()
    now = datetime.now(UTC)
    step = sa.table(
        "dunning_step",
        sa.column("profile_id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("days", sa.Integer),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    for profile_id, days in profiles:
        if isinstance(days, str):
            days = json.loads(days)
        for day in sorted({int(d) for d in days or []}):
            bind.execute(
                step.insert().values(
                    profile_id=profile_id, kind="reminder", days=day, created_at=now
                )
            )


def downgrade():
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT profile_id, days FROM dunning_step WHERE kind != 'hand_off' ORDER BY days")
    ).all()
    days_of: dict[int, list[int]] = {}
    for profile_id, days in rows:
        days_of.setdefault(profile_id, []).append(days)
    op.drop_table("mail_text")
    op.drop_table("dunning_step")
    with op.batch_alter_table("profile", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminder_days", sa.JSON(), nullable=True))
    profile = sa.table("profile", sa.column("id", sa.Integer), sa.column("reminder_days", sa.JSON))
    for (profile_id,) in bind.execute(sa.text("SELECT id FROM profile")).all():
        bind.execute(
            profile.update()
            .where(profile.c.id == profile_id)
            .values(reminder_days=days_of.get(profile_id, []))
        )
    with op.batch_alter_table("profile", schema=None) as batch_op:
        batch_op.alter_column("reminder_days", existing_type=sa.JSON(), nullable=False)
