"""The entities migration (d19d04000004) on an install that has a creditor, a Teamleader
connection and documents: every known entity gets the creditor the install had, so it
collects, mails and shows exactly as before; and it goes back."""

import json

import flask_migrate
import sqlalchemy as sa

from collector import create_app
from collector.extensions import db
from tests.conftest import app_config

BEFORE = "d7e1a9c4b2f0"
AFTER = "d19d04000004"


def test_the_current_creditor_is_put_on_every_known_entity_and_goes_back(tmp_path):
    # Its own SQLite database (batch mode, as the demo runs), so the session's schema is
    # left alone; rows exist before the migration runs.
    url = f"sqlite:///{tmp_path / 'entities.sqlite3'}"
    app = create_app(app_config(tmp_path, DATABASE_URL=url))
    departments = [{"id": "dep-be", "name": "Klaverblad BE"}, {"id": "dep-nl", "name": "NL"}]
    with app.app_context():
        flask_migrate.upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO creditor (name, iban, bic, creditor_identifier,"
                    " prenotification_days, pain_version, updated_at) VALUES ('Demo Company BV',"
                    " 'BE71096123456769', 'GKCCBEBB', 'BE69ZZZ050D000000008', 5,"
                    " 'pain.008.001.08', '2026-12-01 10:00:00+00:00')"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO teamleader_connection (account_id, status, user_name,"
                    " webhook_token, connected_at, departments, custom_fields,"
                    " import_department_ids, auto_import, strict_mode_confirmed, updated_at)"
                    " VALUES ('acc', 'connected', 'u', 'h', :now, :departments, '[]', '[]', 0,"
                    " 0, :now)"
                ),
                {"departments": json.dumps(departments), "now": "2026-12-01 10:00:00+00:00"},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO customer (id, teamleader_id, customer_number, kind, name,"
                    " created_at, updated_at) VALUES (1, 'c', 'c', 'company', 'C', :now, :now)"
                ),
                {"now": "2026-12-01 10:00:00+00:00"},
            )
            # A document of an entity the connection no longer lists is known too.
            conn.execute(
                sa.text(
                    "INSERT INTO invoice (kind, number, teamleader_id, department_id,"
                    " customer_id, invoice_date, currency, total_excl_vat, total_vat,"
                    " total_incl_vat, amount_due, payment_token, state, state_changed_at,"
                    " created_at, updated_at, pdf_failures) VALUES ('invoice', '1', 't1',"
                    " 'dep-old', 1, '2026-11-01', 'EUR', 100, 21, 121, 121, 'tok', 'BOOKED',"
                    " :now, :now, :now, 0)"
                ),
                {"now": "2026-12-01 10:00:00+00:00"},
            )

        flask_migrate.upgrade(revision=AFTER)

        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT department_id, name, iban, bic, creditor_identifier,"
                    " prenotification_days, pain_version, sender_email FROM creditor ORDER BY id"
                )
            ).all()
        same = ("Demo Company BV", "BE71096123456769", "GKCCBEBB", "BE69ZZZ050D000000008")
        same += (5, "pain.008.001.08", "")
        assert [tuple(r) for r in rows] == [
            (None, *same),
            ("dep-be", *same),
            ("dep-nl", *same),
            ("dep-old", *same),
        ]

        flask_migrate.downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM creditor")).scalar() == 1
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("creditor")}
        assert "department_id" not in columns and "logo_key" not in columns
        db.engine.dispose()


def test_an_install_without_a_creditor_gets_none(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    app = create_app(app_config(tmp_path, DATABASE_URL=url))
    with app.app_context():
        flask_migrate.upgrade(revision=AFTER)
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM creditor")).scalar() == 0
        db.engine.dispose()
