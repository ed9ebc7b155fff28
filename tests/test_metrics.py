"""``/metrics``: Prometheus's text format, what moves it (requests, jobs, payments, calls
upstream, collections), who may read it, and the sum over several processes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import requests
import responses
from prometheus_client.parser import text_string_to_metric_families
from rq import SimpleWorker

from collector.core import http
from collector.direct_debit import collection_outcomes
from collector.documents import ledger
from collector.documents.models import PaymentSource
from collector.exact.transport import ExactTransport
from collector.extensions import db
from collector.runtime.queue import QUEUES, bind_job_class, tracked
from collector.teamleader import imports
from collector.teamleader.models import ImportSource, SyncStatus, TeamleaderSync
from collector.teamleader.transport import TeamleaderTransport
from tests.conftest import app_config
from tests.support import jobs as test_jobs
from tests.support.factories import make_collection, make_invoice
from tests.test_http import ERRORS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@tracked
def metrics_breaks(*, progress) -> None:
    raise RuntimeError("broken on purpose")


def scrape(client, **headers) -> dict:
    """``/metrics`` parsed by prometheus_client's own parser: {(name, labels): value}."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(samples: dict, metric: str, /, **labels) -> float:
    return samples.get((metric, tuple(sorted(labels.items()))), 0.0)


def drain(app, redis_conn) -> None:
    SimpleWorker(QUEUES, connection=redis_conn, job_class=bind_job_class(app)).work(burst=True)


def test_the_scrape_parses_and_shows_queues_outboxes_and_sources(app, client, redis_conn):
    invoice = make_invoice()
    db.session.add(TeamleaderSync(invoice=invoice, wanted=1, status=SyncStatus.PENDING))
    db.session.commit()
    app.extensions["jobs"].enqueue(test_jobs.linger, 0)

    samples = scrape(client)

    assert value(samples, "collector_scrape_source_up", source="redis") == 1
    assert value(samples, "collector_scrape_source_up", source="database") == 1
    assert value(samples, "collector_queue_jobs", queue="default", state="queued") == 1
    assert value(samples, "collector_queue_jobs", queue="high", state="queued") == 0
    assert value(samples, "collector_queue_oldest_age_seconds", queue="default") >= 0
    assert ("collector_queue_oldest_age_seconds", (("queue", "low"),)) in samples
    assert value(samples, "collector_outbox_backlog", outbox="teamleader", status="pending") == 1
    assert value(samples, "collector_outbox_backlog", outbox="callbacks", status="pending") == 0
    for outbox in ("teamleader", "exact", "callbacks", "mail"):
        assert ("collector_outbox_oldest_age_seconds", (("outbox", outbox),)) in samples


def test_a_request_moves_its_endpoint_histogram(client):
    labels = {"endpoint": "auth.login", "method": "GET", "status": "2xx"}
    before = value(scrape(client), "collector_http_request_duration_seconds_count", **labels)
    assert client.get("/login").status_code == 200
    client.get("/no-such-page")
    after = scrape(client)
    assert value(after, "collector_http_request_duration_seconds_count", **labels) == before + 1
    unmatched = {"endpoint": "unmatched", "method": "GET", "status": "4xx"}
    assert value(after, "collector_http_request_duration_seconds_count", **unmatched) >= 1
    # The path is never a label: a token in it would be in every scrape.
    assert all("path" not in dict(labels) for _, labels in after)


def test_jobs_are_counted_by_name_and_outcome(app, client, redis_conn):
    before = scrape(client)
    jobs = app.extensions["jobs"]
    jobs.enqueue(test_jobs.linger, 0)
    jobs.enqueue(metrics_breaks)
    jobs.enqueue(test_jobs.hit_the_limit, 60)
    drain(app, redis_conn)
    after = scrape(client)

    for name, outcome in (
        ("linger", "finished"),
        ("metrics_breaks", "failed"),
        ("hit_the_limit", "deferred"),
    ):
        labels = {"name": name, "outcome": outcome}
        assert value(after, "collector_jobs_total", **labels) == (
            value(before, "collector_jobs_total", **labels) + 1
        )
        seconds = "collector_job_duration_seconds_count"
        assert value(after, seconds, **labels) == value(before, seconds, **labels) + 1


def test_a_payment_is_counted_once_committed_and_not_when_rolled_back(app, client):
    before = value(scrape(client), "collector_payments_recorded_total", source="manual")
    invoice = make_invoice()
    db.session.commit()

    def pay(key: str):
        return ledger.record_payment(
            invoice,
            key=key,
            amount=Decimal("10.00"),
            occurred_at=datetime(2026, 12, 1, tzinfo=UTC),
            source=PaymentSource.MANUAL,
            actor="test",
        )

    assert pay("metrics:1") is not None
    db.session.commit()
    assert pay("metrics:1") is None  # the same payment again: not a new one
    db.session.commit()
    assert pay("metrics:2") is not None
    db.session.rollback()  # never kept, never counted
    assert pay("metrics:3") is not None
    assert pay("metrics:3") is None  # its savepoint rolled back, not the payment before it
    db.session.commit()

    after = value(scrape(client), "collector_payments_recorded_total", source="manual")
    assert after == before + 2


def test_the_banks_answers_are_counted_by_outcome(app, client, clock):
    clock.set("2026-11-15T10:00:00Z")  # make_collection's documents: due 2026-12-01
    before = scrape(client)
    paid, refused = make_collection(), make_collection()
    collection_outcomes.settle(paid, paid.amount, date(2026, 12, 3), "bank file")
    collection_outcomes.reject(refused, "AM04", "bank file", date(2026, 11, 25))
    db.session.commit()
    collection_outcomes.settle(paid, paid.amount, date(2026, 12, 3), "bank file")  # again
    db.session.commit()

    after = scrape(client)
    for outcome in ("settled", "rejected"):
        was = value(before, "collector_collection_outcomes_total", outcome=outcome)
        assert value(after, "collector_collection_outcomes_total", outcome=outcome) == was + 1
    was = value(before, "collector_payments_recorded_total", source="bank")
    assert value(after, "collector_payments_recorded_total", source="bank") == was + 1


def test_an_ended_import_is_counted_by_outcome(app, client):
    before = value(scrape(client), "collector_imports_ended_total", outcome="failed")
    imp = imports.create_import(ImportSource.WEBHOOK, subjects=[{"type": "invoice", "id": "x"}])
    imports.mark_failed(imp, RuntimeError("Teamleader went away"))
    after = value(scrape(client), "collector_imports_ended_total", outcome="failed")
    assert after == before + 1


@responses.activate
def test_upstream_calls_are_counted_by_service_and_outcome(client):
    assert TeamleaderTransport.service == "teamleader"
    assert ExactTransport.service == "exact"
    api = "https://api.example.test"
    responses.get(f"{api}/ok", json={})
    responses.get(f"{api}/busy", status=429, json={})
    transport = http.Transport(requests.Session(), api, ERRORS, service="teamleader")
    before = scrape(client)

    transport.send(http.Call("GET", "ok", transport.url("ok")))
    with pytest.raises(http.RateLimited):
        transport.send(http.Call("GET", "busy", transport.url("busy")))

    after = scrape(client)
    for outcome in ("ok", "rate_limited"):
        labels = {"service": "teamleader", "outcome": outcome}
        was = value(before, "collector_upstream_calls_total", **labels)
        assert value(after, "collector_upstream_calls_total", **labels) == was + 1


def test_a_token_opens_metrics_and_nothing_else_does(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "scrape-token-" + "x" * 20)
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics").headers["WWW-Authenticate"] == "Bearer"
    wrong = {"Authorization": "Bearer not-the-token"}
    assert client.get("/metrics", headers=wrong).status_code == 401
    right = {"Authorization": "Bearer scrape-token-" + "x" * 20}
    remote = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", headers=right, environ_base=remote).status_code == 200


def test_without_a_token_only_this_machine_reads_metrics(client):
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    remote = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=remote).status_code == 403
    # A proxy on this machine connects from loopback for everyone: it says so.
    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    assert client.get("/metrics", headers=forwarded).status_code == 403
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200


# A process of the service, as a gunicorn worker is: the app made, requests answered.
SERVE_IN_A_PROCESS = textwrap.dedent(
    """
    import json, sys
    from collector import create_app
    app = create_app(json.loads(sys.argv[1]))
    client = app.test_client()
    for _ in range(int(sys.argv[2])):
        assert client.get("/login").status_code == 200
    if sys.argv[2] == "0":
        sys.stdout.write(client.get("/metrics").get_data(as_text=True))
    """
)


def test_multiprocess_mode_adds_up_what_each_process_counted(app, tmp_root, tmp_path):
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    config = json.dumps(app_config(tmp_root))

    def serve(requests: int) -> str:
        done = subprocess.run(
            [sys.executable, "-c", SERVE_IN_A_PROCESS, config, str(requests)],
            env=env,
            cwd=ROOT,
            check=True,
            timeout=120,
            capture_output=True,
            text=True,
        )
        return done.stdout

    serve(2)
    serve(3)  # two processes, as two gunicorn workers would be
    assert len(list(folder.glob("histogram_*.db"))) == 2  # one file each
    text = serve(0)  # a third answers the scrape

    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    labels = {"endpoint": "auth.login", "method": "GET", "status": "2xx"}
    assert value(samples, "collector_http_request_duration_seconds_count", **labels) == 5
    # What is read at scrape time is there too.
    assert value(samples, "collector_scrape_source_up", source="database") == 1


# rq's forking worker, as ``worker.py``'s general lane runs it: a work horse per job.
WORK_IN_A_PROCESS = textwrap.dedent(
    """
    import json, sys
    import redis
    from rq import Worker
    from collector import create_app
    from collector.runtime.queue import QUEUES, bind_job_class
    app = create_app(json.loads(sys.argv[1]))
    connection = redis.Redis.from_url(app.config["REDIS_URL"])
    Worker(QUEUES, connection=connection, job_class=bind_job_class(app)).work(burst=True)
    """
)


def test_work_horses_count_in_their_workers_files(app, tmp_root, tmp_path):
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    config = json.dumps(app_config(tmp_root))
    for _ in range(3):
        app.extensions["jobs"].enqueue(test_jobs.linger, 0)

    def run(script: str, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", script, config, *args],
            env=env,
            cwd=ROOT,
            check=True,
            timeout=120,
            capture_output=True,
            text=True,
        )
        return done.stdout

    run(WORK_IN_A_PROCESS)
    # Three jobs, three work horses, one set of files: the worker's.
    assert [path.name.startswith("counter_rq-") for path in folder.glob("counter_*.db")] == [True]
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(run(SERVE_IN_A_PROCESS, "0"))
        for sample in family.samples
    }
    assert value(samples, "collector_jobs_total", name="linger", outcome="finished") == 3


def exported_names(client) -> set[str]:
    """Every series name the scrape declares, those with no sample yet included."""
    text = client.get("/metrics").get_data(as_text=True)
    names = set()
    for family in text_string_to_metric_families(text):
        names |= {sample.name for sample in family.samples}
        if family.type == "counter":
            names.add(f"{family.name}_total")
        elif family.type == "histogram":
            names |= {f"{family.name}{end}" for end in ("_bucket", "_count", "_sum")}
        else:
            names.add(family.name)
    return names


def test_the_grafana_dashboard_asks_only_for_metrics_we_export(client):
    exported = exported_names(client)
    dashboard = json.loads((Path(ROOT) / "deploy" / "grafana" / "collector.json").read_text())
    asked = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\bcollector_[a-z_]+", target["expr"])
    }
    assert len(asked) >= 10
    assert asked - exported == set()
