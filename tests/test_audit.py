"""The audit log's core: a row in the caller's transaction, with who acted and never a
secret."""

from collector.accounts import audit
from collector.accounts.models import AuditEvent
from collector.extensions import db


def test_a_row_is_written_with_the_change_and_holds_no_secret(app):
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "192.0.2.7"}):
        audit.record(
            "user.created",
            target="user:3",
            details={
                "email": "ann@example.com",
                "password": "hunter2hunter2",
                "nested": {"token": "x", "role": "admin"},
            },
        )
        db.session.commit()
    row = db.session.execute(db.select(AuditEvent)).scalar_one()
    assert row.actor == "system"
    assert row.action == "user.created"
    assert row.target == "user:3"
    assert row.details == {"email": "ann@example.com", "nested": {"role": "admin"}}
    assert row.remote_addr == "192.0.2.7"
    assert row.at.tzinfo is not None


def test_a_rolled_back_change_leaves_no_row(app):
    with app.test_request_context("/"):
        audit.record("settings.changed", actor="user:bob@example.com")
        db.session.rollback()
    assert db.session.execute(db.select(AuditEvent)).first() is None
