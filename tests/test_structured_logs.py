"""One JSON line per request and per job, tied by the request id; and no secret in any line:
a password, a webhook's token, the customer's page tokens, an API key."""

from __future__ import annotations

import json
import logging

import pytest
from flask import current_app
from rq import SimpleWorker

from collector import create_app
from collector.accounts import users
from collector.extensions import csrf
from collector.runtime import request_ids, structured_log
from collector.runtime.queue import QUEUES, bind_job_class
from tests.conftest import app_config, csrf_token
from tests.support import jobs as test_jobs

ASKED_ID = "req-from-the-proxy-1234"
PASSWORD = "Secret-Password-" + "q" * 12
WEBHOOK_TOKEN = "WhTok" + "w" * 40
PAGE_TOKEN = "PgTok" + "p" * 40
API_KEY = "ApiKey" + "k" * 40


@pytest.fixture(scope="module")
def json_app(tmp_root):
    """An app of its own, as production logs: JSON (the schema is the suite's), with one
    route of the test's that starts a job."""
    app = create_app(app_config(tmp_root, LOG_FORMAT="json"))

    @app.post("/test-start-a-job")
    @csrf.exempt
    def start_a_job():
        run = current_app.extensions["jobs"].enqueue(test_jobs.linger, 0)
        return {"job_id": run.job_id}

    return app


@pytest.fixture
def json_client(app, json_app):
    with json_app.app_context():
        yield json_app.test_client()


def lines(caplog) -> list[dict]:
    """What production would write: every captured record in the JSON format."""
    formatter = structured_log.JsonFormatter()
    return [json.loads(formatter.format(record)) for record in caplog.records]


def test_production_logs_json_and_development_text():
    assert structured_log.log_format({"ENV": "production"}) == "json"
    assert structured_log.log_format({"ENV": "development"}) == "text"
    assert structured_log.log_format({"ENV": "production", "LOG_FORMAT": "text"}) == "text"
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        structured_log.log_format({"ENV": "production", "LOG_FORMAT": "xml"})
    # In development the request and job lines stay below the default level: `make run`
    # prints what the dev server prints, no more.
    assert structured_log.event_level({"ENV": "development"}) == logging.DEBUG


def test_a_request_line_and_its_job_line_share_the_request_id(json_app, json_client, caplog):
    with caplog.at_level(logging.INFO, logger=structured_log.EVENTS):
        response = json_client.post("/test-start-a-job", headers={request_ids.HEADER: ASKED_ID})
        assert response.status_code == 200
        assert response.headers[request_ids.HEADER] == ASKED_ID
        redis_conn = json_app.extensions["jobs"].backend.connection
        worker = SimpleWorker(QUEUES, connection=redis_conn, job_class=bind_job_class(json_app))
        worker.work(burst=True)

    events = [line for line in lines(caplog) if line["logger"] == structured_log.EVENTS]
    request, job = events
    assert request["message"] == "request"
    assert request["level"] == "INFO"
    assert {k: request[k] for k in ("method", "endpoint", "path", "status", "request_id")} == {
        "method": "POST",
        "endpoint": "start_a_job",
        "path": "/test-start-a-job",
        "status": 200,
        "request_id": ASKED_ID,
    }
    assert isinstance(request["duration_ms"], float)
    assert request["ts"].endswith("+00:00")
    assert job["message"] == "job"
    assert {k: job[k] for k in ("job", "job_id", "outcome", "request_id")} == {
        "job": "linger",
        "job_id": response.get_json()["job_id"],
        "outcome": "finished",
        "request_id": ASKED_ID,
    }
    assert isinstance(job["duration_ms"], float)


@pytest.mark.parametrize("asked", ["", "short", "has spaces in it", "x" * 129, "é" * 10])
def test_an_unusable_request_id_is_replaced(json_client, asked):
    response = json_client.get("/login", headers={request_ids.HEADER: asked})
    given = response.headers[request_ids.HEADER]
    assert given != asked
    assert request_ids.VALID.fullmatch(given)


def test_a_request_without_an_id_gets_one_of_its_own(json_client):
    first = json_client.get("/login").headers[request_ids.HEADER]
    second = json_client.get("/login").headers[request_ids.HEADER]
    assert first != second
    assert request_ids.VALID.fullmatch(first)


def test_no_secret_reaches_the_logs(app, json_app, json_client, caplog):
    users.create_user("finance@example.com", PASSWORD, "admin")
    with caplog.at_level(logging.DEBUG):
        for password in (PASSWORD, PASSWORD + "-wrong"):
            json_client.post(
                "/login",
                data={
                    "email": "finance@example.com",
                    "password": password,
                    "csrf_token": csrf_token(json_client),
                },
            )
        json_client.post(f"/webhooks/teamleader/{WEBHOOK_TOKEN}", json={"type": "x"})
        json_client.post(f"/webhooks/provider/{WEBHOOK_TOKEN}", data={"id": "tr_1"})
        json_client.get(f"/pay/{PAGE_TOKEN}?lang=fr")
        json_client.get(f"/portal/{PAGE_TOKEN}/return")
        json_client.get(f"/mandate/{PAGE_TOKEN}")
        json_client.get(f"/password/new/{PAGE_TOKEN}")
        json_client.get("/api/v1/invoices", headers={"Authorization": f"Bearer {API_KEY}"})

    formatted = lines(caplog)
    paths = [line["path"] for line in formatted if line.get("message") == "request"]
    assert len(paths) >= 9  # every request wrote its line (the login form's GETs too)
    for masked in ("/webhooks/teamleader/***", "/pay/***", "/mandate/***", "/portal/***/return"):
        assert masked in paths
    written = caplog.text + "\n".join(json.dumps(line) for line in formatted)
    for secret in (PASSWORD, WEBHOOK_TOKEN, PAGE_TOKEN, API_KEY):
        assert secret not in written
