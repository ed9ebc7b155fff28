"""Webhook, payment-page and portal tokens never reach the access logs: the request lines of
werkzeug's server (the demo) and gunicorn's (production, the fault suite) are masked."""

from __future__ import annotations

import logging
from datetime import timedelta
from types import SimpleNamespace

import requests
from gunicorn.config import Config
from gunicorn.glogging import Logger

from collector.payments import setup as payments_setup

TEAMLEADER_TOKEN = "Zq3" + "k" * 40
PAY_TOKEN = "Pq7" + "m" * 40


def test_werkzeug_request_lines_show_no_token(app, live_server, caplog):
    provider_token = payments_setup.webhook_token(app)
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        requests.post(f"{live_server}/webhooks/teamleader/{TEAMLEADER_TOKEN}", timeout=5)
        requests.post(f"{live_server}/webhooks/provider/{provider_token}", timeout=5)
        requests.get(f"{live_server}/pay/{PAY_TOKEN}?r=1", timeout=5)
        requests.get(f"{live_server}/pay/{PAY_TOKEN}/document.pdf", timeout=5)
        requests.get(f"{live_server}/portal/{PAY_TOKEN}?lang=fr", timeout=5)

    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert len(lines) == 5
    for token in (TEAMLEADER_TOKEN, provider_token, PAY_TOKEN):
        assert token not in caplog.text
    assert "POST /webhooks/teamleader/*** HTTP/1.1" in lines[0]
    assert "POST /webhooks/provider/*** HTTP/1.1" in lines[1]
    assert "GET /pay/***?r=1 HTTP/1.1" in lines[2]
    assert "GET /pay/***/document.pdf HTTP/1.1" in lines[3]
    assert "GET /portal/***?lang=fr HTTP/1.1" in lines[4]


def test_gunicorn_access_lines_show_no_token(app, tmp_path):
    # gunicorn's own logger, configured as `--access-logfile <file>` does, in a process
    # whose app was made by create_app (the ``app`` fixture).
    cfg = Config()
    cfg.set("accesslog", str(tmp_path / "access.log"))
    logger = Logger(cfg)
    path = f"/webhooks/teamleader/{TEAMLEADER_TOKEN}"
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": path,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    }
    response = SimpleNamespace(status="202 ACCEPTED", sent=17, headers=[])
    request = SimpleNamespace(headers=[])

    logger.access(response, request, environ, timedelta(milliseconds=3))
    access = logging.getLogger("gunicorn.access")
    for handler in list(access.handlers):
        access.removeHandler(handler)
        handler.close()

    written = (tmp_path / "access.log").read_text()
    assert '"POST /webhooks/teamleader/*** HTTP/1.1" 202 17' in written
    assert TEAMLEADER_TOKEN not in written


def test_flasks_exception_line_shows_no_token(app, caplog):
    # Flask logs "Exception on <path> [POST]" through the app's logger when a view fails.
    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        app.logger.error(f"Exception on /webhooks/teamleader/{TEAMLEADER_TOKEN} [POST]")
    assert caplog.records[-1].getMessage() == "Exception on /webhooks/teamleader/*** [POST]"
