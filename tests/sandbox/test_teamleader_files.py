"""Download-link faults (``/_control/files/faults``): each kind through invoices.download /
creditNotes.download and the ``/_files/<token>`` location they hand out."""

from __future__ import annotations

import re
import threading
from datetime import datetime
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest
from werkzeug.serving import make_server

from collector.core.outbound import OutboundGuard
from collector.teamleader import FileFetcher, FileRefused, build_session

MIB = 1024 * 1024


@pytest.fixture
def invoice_id(data) -> str:
    return data("invoices.list")[0]["id"]


@pytest.fixture
def link(data, invoice_id):
    """``link()`` → a fresh ``{location, expires}`` for the invoice's PDF."""
    return lambda fmt="pdf": data("invoices.download", {"id": invoice_id, "format": fmt})


def inject(tl, **fault) -> dict:
    response = tl.post("/_control/files/faults", json=fault)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]


def fetch(tl, location: str, **kwargs):
    return tl.get(urlsplit(location).path, **kwargs)


def assert_valid_pdf(body: bytes) -> None:
    """Starts as a PDF, and the last ``startxref`` points at the cross-reference table."""
    assert body.startswith(b"%PDF-1.")
    assert body.endswith(b"%%EOF\n")
    startxref = int(re.findall(rb"startxref\n(\d+)\n%%EOF", body)[-1])
    assert body[startxref:].startswith(b"xref\n0 6\n")


def test_a_fault_is_created_listed_and_cleared(tl):
    fault = inject(tl, kind="oversized")
    assert fault == {"id": 1, "kind": "oversized", "remaining": 1, "bytes": 25 * MIB}
    assert inject(tl, kind="expired", count=3) == {
        "id": 2,
        "kind": "expired",
        "remaining": 3,
        "bytes": None,
    }
    assert [f["id"] for f in tl.get("/_control/files/faults").get_json()["data"]] == [1, 2]

    assert tl.delete("/_control/files/faults").status_code == 204
    assert tl.get("/_control/files/faults").get_json()["data"] == []


def test_reset_clears_file_faults(tl):
    inject(tl, kind="not_pdf", count=5)

    assert tl.post("/_control/reset", json={"keep_auth": True}).status_code == 200

    assert tl.get("/_control/files/faults").get_json()["data"] == []


def test_file_faults_are_apart_from_api_faults(tl, link):
    inject(tl, kind="expired")
    assert tl.get("/_control/faults").get_json()["data"] == []
    tl.delete("/_control/faults")

    assert fetch(tl, link()["location"]).status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "slow"}, "kind"),
        ({}, "kind"),
        ({"kind": "expired", "count": 0}, "count"),
        ({"kind": "expired", "count": "2"}, "count"),
        ({"kind": "oversized", "bytes": 0}, "bytes"),
        ({"kind": "oversized", "bytes": True}, "bytes"),
    ],
)
def test_a_bad_file_fault_is_400(tl, body, field):
    response = tl.post("/_control/files/faults", json=body)

    assert response.status_code == 400
    assert response.get_json()["errors"][0]["meta"]["field"] == field
    assert tl.get("/_control/files/faults").get_json()["data"] == []


def test_expired_links_are_issued_expired_then_links_are_good_again(tl, link, emulator):
    inject(tl, kind="expired", count=2)
    first, second, third = link(), link(), link()

    assert datetime.fromisoformat(first["expires"]) <= emulator.clock.now()
    for spoiled in (first, second):
        response = fetch(tl, spoiled["location"])
        assert response.status_code == 403
        assert response.data == b"Request has expired\n"
    assert fetch(tl, third["location"]).status_code == 200
    assert tl.get("/_control/files/faults").get_json()["data"] == []


def test_not_pdf_serves_an_html_page(tl, link):
    inject(tl, kind="not_pdf")

    response = fetch(tl, link()["location"])

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.data.startswith(b"<!doctype html>")
    assert b"%PDF" not in response.data


def test_oversized_pads_a_valid_pdf_to_the_size_asked(tl, link):
    inject(tl, kind="oversized", bytes=300_000)

    response = fetch(tl, link()["location"])

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.is_streamed
    assert response.headers["Content-Length"] == "300000"
    assert len(response.data) == 300_000
    assert_valid_pdf(response.data)


@pytest.mark.parametrize("size", [65_536 * 2, 65_536 * 2 + 1, 65_536 * 2 + 2, 65_536 * 2 + 63])
def test_oversized_is_exact_at_every_remainder(tl, link, size):
    inject(tl, kind="oversized", bytes=size)

    body = fetch(tl, link()["location"]).data

    assert len(body) == size
    assert_valid_pdf(body)
    padding = body[body.index(b"%%EOF\n") + 6 : body.rindex(b"startxref")]
    assert all(line.startswith(b"%") or line == b"" for line in padding.split(b"\n")[:-1])


def test_oversized_by_default_is_25_mib_sent_as_it_is_read(tl, link):
    inject(tl, kind="oversized")

    response = fetch(tl, link()["location"], buffered=False)
    try:
        assert response.headers["Content-Length"] == str(25 * MIB)
        first = next(iter(response.response))
        assert first.startswith(b"%PDF-1.")
        assert len(first) < MIB  # the document itself, not the padding in one piece
    finally:
        response.close()


def test_oversized_ubl_is_padded_with_whitespace_and_still_parses(tl, link):
    inject(tl, kind="oversized", bytes=100_000)

    response = fetch(tl, link("ubl/e-fff")["location"])

    assert response.mimetype == "application/xml"
    assert len(response.data) == 100_000
    # Our own emulator's output, not untrusted input.
    assert ElementTree.fromstring(response.data).tag.endswith("Invoice")  # noqa: S314


def test_foreign_host_points_at_a_host_that_never_resolves(tl, data, emulator):
    note_id = data("creditNotes.list")[0]["id"]
    inject(tl, kind="foreign_host")

    location = data("creditNotes.download", {"id": note_id, "format": "pdf"})["location"]

    parts = urlsplit(location)
    assert (parts.scheme, parts.netloc) == ("http", "files.invalid")
    token = parts.path.removeprefix("/")
    assert token in emulator.store.downloads


def test_a_fault_applies_to_invoice_and_credit_note_links_alike(tl, data, link):
    note_id = data("creditNotes.list")[0]["id"]
    inject(tl, kind="not_pdf", count=2)

    spoiled = [
        link()["location"],
        data("creditNotes.download", {"id": note_id, "format": "pdf"})["location"],
    ]

    assert [fetch(tl, url).mimetype for url in spoiled] == ["text/html", "text/html"]
    assert fetch(tl, link()["location"]).mimetype == "application/pdf"


# -- the collector's fetcher against the emulator on a real port --------------------------


@pytest.fixture
def served(emulator_app):
    """The emulator on 127.0.0.1, for a real HTTP client."""
    server = make_server("127.0.0.1", 0, emulator_app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield f"127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        (None, None),
        ("expired", "download location expired or refused (HTTP 403)"),
        ("not_pdf", "file is not a PDF (text/html)"),
        ("oversized", f"file is larger than {20 * MIB} bytes"),
        ("foreign_host", "plain http to http://files.invalid is not allowed"),
    ],
)
def test_the_collector_fetcher_refuses_each_spoiled_link(served, tokens, kind, reason):
    http = build_session()
    base = f"http://{served}"
    if kind:
        fault = http.post(f"{base}/_control/files/faults", json={"kind": kind}, timeout=5)
        assert fault.status_code == 201
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    invoice = http.post(f"{base}/invoices.list", json={}, headers=headers, timeout=5)
    body = {"id": invoice.json()["data"][0]["id"], "format": "pdf"}
    answer = http.post(f"{base}/invoices.download", json=body, headers=headers, timeout=5)
    # The emulator is on loopback: allowed by name, as the tests' and the demo's settings do.
    guarded = OutboundGuard.from_setting(served).session("test", accept="application/pdf")
    fetcher = FileFetcher(guarded, plain_http_hosts=[served])

    if reason is None:
        assert_valid_pdf(fetcher.fetch_pdf(answer.json()["data"]["location"]))
        return
    with pytest.raises(FileRefused) as raised:
        fetcher.fetch_pdf(answer.json()["data"]["location"])
    assert raised.value.reason == reason
