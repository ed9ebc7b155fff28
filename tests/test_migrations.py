"""The migrations build the schema the models describe, on an empty database."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from collector.extensions import db


def test_upgrade_from_empty_database_leaves_no_drift(app):
    # The session fixture emptied the database and ran every migration to head.
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "render_as_batch": True}
        )
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_the_database_is_at_the_one_head_of_the_migration_scripts(app):
    config = app.extensions["migrate"].migrate.get_config()
    script_heads = ScriptDirectory.from_config(config).get_heads()
    with db.engine.connect() as conn:
        recorded = MigrationContext.configure(conn).get_current_heads()
    assert len(script_heads) == 1, f"the migration chain has forked: {script_heads}"
    assert set(recorded) == set(script_heads)
