"""The VAT migration (c10c0a000002) on a database that already has customers."""

import flask_migrate
import sqlalchemy as sa

from collector import create_app
from collector.core.vat import read_vat
from collector.extensions import db
from tests.conftest import app_config


def test_the_vat_migration_reads_stored_numbers_and_goes_back(tmp_path):
    # Its own SQLite database (batch mode, as the demo runs), so the session's schema is
    # left alone; rows exist before the migration runs, unlike on the emptied test database.
    app = create_app(app_config(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'vat.sqlite3'}"))
    typed = {
        1: ("BE", "BE 0477.472.701"),
        2: ("BE", "0477.472.701"),
        3: ("NL", "nl 0044.95.445.b01"),
        4: ("BE", "BE 0477.472.702"),
        5: (None, "0477.472.701"),
        6: ("BE", None),
    }
    with app.app_context():
        flask_migrate.upgrade(revision="c10c0a000001")
        now = "2026-12-01 10:00:00+00:00"
        with db.engine.begin() as conn:
            for ident, (country, vat_number) in typed.items():
                conn.execute(
                    sa.text(
                        "INSERT INTO customer (id, teamleader_id, customer_number, kind, name,"
                        " country, vat_number, created_at, updated_at) VALUES (:id, :tl, :tl,"
                        " 'company', 'C', :country, :vat, :now, :now)"
                    ),
                    {
                        "id": ident,
                        "tl": f"tl-{ident}",
                        "country": country,
                        "vat": vat_number,
                        "now": now,
                    },
                )

        flask_migrate.upgrade(revision="c10c0a000002")

        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT id, vat_number, vat_compact, vat_problem FROM customer ORDER BY id")
            ).all()
        assert [tuple(r) for r in rows] == [
            (1, "BE 0477.472.701", "BE0477472701", None),
            (2, "0477.472.701", "BE0477472701", None),
            (3, "nl 0044.95.445.b01", "NL004495445B01", None),
            (4, "BE 0477.472.702", None, "checksum"),
            (5, "0477.472.701", None, "country"),
            (6, None, None, None),
        ]
        # The migration's copy of the rule agrees with the application's.
        for ident, (country, vat_number) in typed.items():
            vat = read_vat(vat_number, country)
            assert (vat.compact, vat.problem) == tuple(rows[ident - 1][2:])

        flask_migrate.downgrade(revision="c10c0a000001")
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("customer")}
        assert "vat_number" in columns and not {"vat_compact", "vat_problem"} & columns
        db.engine.dispose()
