"""The migrations build the schema the models describe, on an empty database."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from collector.extensions import db


def test_upgrade_from_empty_database_leaves_no_drift(app):
    # The session fixture emptied the database and ran every migration to head.
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "render_as_batch": True}
        )
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_head_is_recorded(app):
    with db.engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    assert len(heads) == 1
