"""Fetching download locations (reference §6.4): what is fetched, what is refused, and that a
reason never shows the signed part of a location."""

from __future__ import annotations

import io

import pytest
import requests
from urllib3.exceptions import ProtocolError

from collector.core.outbound import OutboundGuard
from collector.teamleader import FileFetcher, FileRefused, build_session
from tests.support.dns import PUBLIC

SIGNED = "?X-Amz-Expires=60&X-Amz-Signature=0123456789abcdef"
LOCATION = f"https://files.teamleader.test/signed/invoice-2026-0042.pdf{SIGNED}"
SANDBOX = "localhost:5001"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"
MAX_BYTES = 4096


def guarded(allowed: str = SANDBOX):
    """A session behind the outbound guard, the sandbox host allowed as configured in tests."""
    return OutboundGuard.from_setting(allowed).session("test", accept="application/pdf")


@pytest.fixture(autouse=True)
def file_hosts(dns):
    """The public file hosts these tests name (served through ``responses``)."""
    for name in ("files.teamleader.test", "cdn.teamleader.test", "sandbox.test", "evil.test"):
        dns[name] = [PUBLIC]
    dns["intranet.test"] = ["10.0.0.5"]
    return dns


@pytest.fixture
def file_rsps(rsps):
    """``rsps``, plus: no request may have been refused as unregistered.

    The fetcher turns a ConnectionError into FileRefused, which would hide a request that
    ``responses`` refused because no test registered it; this makes such a request fail.
    """
    yield rsps
    for call in rsps.calls:
        assert "match any registered mock" not in str(call.response), call.request.url


@pytest.fixture
def fetcher(file_rsps) -> FileFetcher:
    return FileFetcher(guarded(), plain_http_hosts=[SANDBOX], max_bytes=MAX_BYTES)


def refusal(fetcher: FileFetcher, location: str) -> str:
    """The reason ``fetch_pdf`` refuses ``location``, checked to hide path and query."""
    with pytest.raises(FileRefused) as raised:
        fetcher.fetch_pdf(location)
    reason = raised.value.reason
    assert str(raised.value) == reason
    for secret in ("X-Amz-Signature", "0123456789abcdef", "/signed/", "invoice-2026", "token-"):
        assert secret not in reason
    return reason


class Endless(io.RawIOBase):
    """A body that never ends (well, after ``limit`` bytes), counting what was read of it."""

    def __init__(self, head: bytes, limit: int) -> None:
        self.head, self.limit, self.served = head, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        size = min(len(buffer), self.limit - self.served)
        buffer[:size] = self.head[self.served : self.served + size].ljust(size, b"%")
        self.served += size
        return size


def test_a_pdf_is_fetched_streaming_without_credentials(file_rsps):
    session = guarded()
    session.headers["Authorization"] = "Bearer access-token-1"  # a shared session may carry one
    fetcher = FileFetcher(session)
    file_rsps.get(LOCATION, body=PDF, content_type="application/pdf")

    assert fetcher.fetch_pdf(LOCATION) == PDF

    request = file_rsps.calls[0].request
    assert request.url == LOCATION
    assert "Authorization" not in request.headers
    assert request.req_kwargs["stream"] is True
    assert request.req_kwargs["timeout"] == (5, 30)


def test_leading_junk_before_the_pdf_header_is_tolerated(file_rsps, fetcher):
    file_rsps.get(LOCATION, body=b"\xef\xbb\xbf\r\n" * 100 + PDF)

    assert fetcher.fetch_pdf(LOCATION).endswith(PDF)


def test_a_pdf_header_after_the_first_kilobyte_is_not_a_pdf(file_rsps, fetcher):
    file_rsps.get(LOCATION, body=b" " * 1024 + PDF, content_type="application/pdf")

    assert refusal(fetcher, LOCATION) == "file is not a PDF (application/pdf)"


@pytest.mark.parametrize("status", [403, 404, 410])
def test_an_expired_location_is_refused(file_rsps, fetcher, status):
    file_rsps.get(LOCATION, body="Request has expired", status=status)

    assert refusal(fetcher, LOCATION) == (f"download location expired or refused (HTTP {status})")


def test_a_server_error_is_refused_with_its_status(file_rsps, fetcher):
    file_rsps.get(LOCATION, body="oops", status=502)

    assert refusal(fetcher, LOCATION) == (
        "file host https://files.teamleader.test answered HTTP 502"
    )


def test_an_html_page_is_not_a_pdf(file_rsps, fetcher):
    page = "<!doctype html><title>Sign in</title><p>Your session expired</p>"
    file_rsps.get(LOCATION, body=page, content_type="text/html; charset=utf-8")

    assert refusal(fetcher, LOCATION) == "file is not a PDF (text/html)"


def test_an_empty_body_is_refused(file_rsps, fetcher):
    file_rsps.get(LOCATION, body=b"", content_type="application/pdf")

    assert refusal(fetcher, LOCATION) == "file is empty"


def test_an_oversized_content_length_is_refused_before_reading(file_rsps, fetcher):
    body = Endless(PDF, limit=MAX_BYTES + 1)
    file_rsps.get(
        LOCATION, body=io.BufferedReader(body), headers={"Content-Length": str(MAX_BYTES + 1)}
    )

    assert refusal(fetcher, LOCATION) == f"file is larger than {MAX_BYTES} bytes"
    assert body.served == 0


def test_a_body_without_length_is_cut_off_once_past_the_cap(file_rsps, fetcher):
    # responses sets no Content-Length unless asked, and streams a BufferedReader body as is:
    # ``served`` shows the fetcher stopped reading soon after the cap, not at the end.
    body = Endless(PDF, limit=100 * MAX_BYTES)
    file_rsps.get(LOCATION, body=io.BufferedReader(body))

    assert refusal(fetcher, LOCATION) == f"file is larger than {MAX_BYTES} bytes"
    assert "Content-Length" not in file_rsps.calls[0].response.headers
    assert MAX_BYTES < body.served <= MAX_BYTES + 64 * 1024 + 8192


def test_a_body_exactly_at_the_cap_is_accepted(file_rsps, fetcher):
    body = PDF.ljust(MAX_BYTES, b"\n")
    file_rsps.get(LOCATION, body=body, auto_calculate_content_length=True)

    assert fetcher.fetch_pdf(LOCATION) == body


def test_a_foreign_plain_http_host_is_refused_without_a_request(file_rsps, fetcher):
    assert refusal(fetcher, f"http://files.invalid/token-abc{SIGNED}") == (
        "plain http to http://files.invalid is not allowed"
    )
    assert len(file_rsps.calls) == 0


@pytest.mark.parametrize(
    "location",
    [
        f"http://localhost:5001/_files/token-abc{SIGNED}",
        f"http://LOCALHOST:5001/_files/token-abc{SIGNED}",
    ],
)
def test_the_sandbox_host_may_use_plain_http(file_rsps, fetcher, location):
    file_rsps.get(location.replace("LOCALHOST", "localhost"), body=PDF)

    assert fetcher.fetch_pdf(location) == PDF


def test_the_sandbox_host_on_another_port_is_refused(file_rsps, fetcher):
    assert refusal(fetcher, "http://localhost:5002/_files/token-abc") == (
        "plain http to http://localhost is not allowed"
    )
    assert len(file_rsps.calls) == 0


@pytest.mark.parametrize(
    ("configured", "location"),
    [
        ("sandbox.test", "http://sandbox.test/_files/token-abc"),
        ("sandbox.test", "http://sandbox.test:80/_files/token-abc"),
        ("Sandbox.Test:80", "http://sandbox.test/_files/token-abc"),
    ],
)
def test_the_default_port_may_be_written_or_not(file_rsps, configured, location):
    fetcher = FileFetcher(guarded(), plain_http_hosts=[configured])
    file_rsps.get(location, body=PDF)

    assert fetcher.fetch_pdf(location) == PDF


def test_a_configured_host_without_port_does_not_allow_other_ports(file_rsps):
    fetcher = FileFetcher(guarded(), plain_http_hosts=["sandbox.test"])

    assert refusal(fetcher, "http://sandbox.test:8080/_files/token-abc") == (
        "plain http to http://sandbox.test is not allowed"
    )
    assert len(file_rsps.calls) == 0


@pytest.mark.parametrize("entry", ["http://sandbox.test", "user@sandbox.test", "sandbox:x", ""])
def test_plain_http_hosts_take_host_and_port_only(entry):
    with pytest.raises(ValueError, match="host\\[:port\\]"):
        FileFetcher(guarded(), plain_http_hosts=[entry])


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        (f"https://user:secret@files.teamleader.test/x{SIGNED}", "carries credentials"),
        (f"http://user@localhost:5001/x{SIGNED}", "carries credentials"),
        (f"https://@files.teamleader.test/x{SIGNED}", "carries credentials"),
        (f"ftp://files.teamleader.test/x{SIGNED}", "scheme ftp is not allowed"),
        ("file:///etc/passwd", "scheme file is not allowed"),
        ("/relative/path", "scheme (none) is not allowed"),
        (f"https:///x{SIGNED}", "location has no host"),
        (f"https://files.teamleader.test:99999/x{SIGNED}", "not a well-formed URL"),
        (f"https://files.teamleader.test\\@evil.test/x{SIGNED}", "not a well-formed URL"),
        (f"https://files.teamleader.test/x\n{SIGNED}", "not a well-formed URL"),
    ],
)
def test_malformed_or_credentialled_locations_are_refused(file_rsps, fetcher, location, reason):
    assert reason in refusal(fetcher, location)
    assert len(file_rsps.calls) == 0


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.10",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 -- a destination, not a bind address
        "240.0.0.1",
        "224.0.0.1",
        "[::1]",
        "[fe80::1]",
        "[fd00::1]",
        "[::ffff:127.0.0.1]",
        "127.1",
        "2130706433",
        "0x7f.0.0.1",
        "localhost",
        "printer.localhost",
    ],
)
def test_private_and_reserved_addresses_are_refused_over_https(file_rsps, fetcher, host):
    reason = refusal(fetcher, f"https://{host}/x{SIGNED}")

    assert "not a public address" in reason
    assert len(file_rsps.calls) == 0


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("[::7f00:1]", "::7f00:1 is not a public address (reserved)."),
        ("[64:ff9b::a9fe:a9fe]", "64:ff9b::a9fe:a9fe is not a public address (link-local)."),
        ("[2002:7f00:1::]", "2002:7f00:1:: is not a public address (loopback)."),
        ("localhost.", "localhost. is not a public address (loopback)."),
        ("loop.nip.test", "loop.nip.test resolves to 127.0.0.1, not a public address (loopback)."),
        (
            "meta.nip.test",
            "meta.nip.test resolves to 169.254.169.254, not a public address (link-local).",
        ),
    ],
)
def test_names_and_ipv6_forms_of_internal_addresses_are_refused(
    file_rsps, fetcher, dns, host, reason
):
    dns["loop.nip.test"], dns["meta.nip.test"] = ["127.0.0.1"], ["169.254.169.254"]

    assert refusal(fetcher, f"https://{host}/x{SIGNED}") == reason
    assert len(file_rsps.calls) == 0


def test_a_session_without_the_guard_is_not_accepted():
    with pytest.raises(ValueError, match="OutboundGuard"):
        FileFetcher(build_session())


def test_a_public_ip_literal_is_allowed(file_rsps, fetcher):
    file_rsps.get("https://203.0.114.7/x", body=PDF)  # outside the documentation ranges

    assert fetcher.fetch_pdf("https://203.0.114.7/x") == PDF


def test_a_private_address_configured_as_sandbox_is_allowed(file_rsps):
    session = guarded("127.0.0.1:5001")  # OUTBOUND_ALLOWED_HOSTS in development
    fetcher = FileFetcher(session, plain_http_hosts=["127.0.0.1:5001"])
    file_rsps.get("https://127.0.0.1:5001/_files/token-abc", body=PDF)
    file_rsps.get("http://127.0.0.1:5001/_files/token-def", body=PDF)

    assert fetcher.fetch_pdf("https://127.0.0.1:5001/_files/token-abc") == PDF
    assert fetcher.fetch_pdf("http://127.0.0.1:5001/_files/token-def") == PDF


def test_a_redirect_to_an_allowed_host_is_followed(file_rsps, fetcher):
    mirror = "https://cdn.teamleader.test/signed/invoice.pdf?sig=abc"
    file_rsps.get(LOCATION, status=302, headers={"Location": mirror})
    file_rsps.get(mirror, body=PDF)

    assert fetcher.fetch_pdf(LOCATION) == PDF
    assert [call.request.url for call in file_rsps.calls] == [LOCATION, mirror]
    assert "Authorization" not in file_rsps.calls[1].request.headers


def test_a_relative_redirect_is_resolved_against_the_location(file_rsps, fetcher):
    file_rsps.get(LOCATION, status=307, headers={"Location": "/v2/invoice.pdf?sig=abc"})
    file_rsps.get("https://files.teamleader.test/v2/invoice.pdf?sig=abc", body=PDF)

    assert fetcher.fetch_pdf(LOCATION) == PDF


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        (
            "http://evil.test/steal?sig=abc",
            "redirect refused: plain http to http://evil.test is not allowed",
        ),
        (
            "https://169.254.169.254/latest/meta-data/",
            "redirect refused: 169.254.169.254 is not a public address (link-local).",
        ),
        (
            "https://intranet.test/admin?sig=abc",
            "redirect refused: intranet.test resolves to 10.0.0.5, not a public address (private).",
        ),
        ("gopher://evil.test/x", "redirect refused: scheme gopher is not allowed"),
    ],
)
def test_a_redirect_to_a_foreign_host_is_refused(file_rsps, fetcher, target, reason):
    file_rsps.get(LOCATION, status=302, headers={"Location": target})

    assert refusal(fetcher, LOCATION) == reason
    assert [call.request.url for call in file_rsps.calls] == [LOCATION]


def test_more_redirects_than_allowed_are_refused(file_rsps, fetcher):
    hops = [f"https://files.teamleader.test/hop/{n}?sig=abc" for n in range(5)]
    for here, there in zip(hops, hops[1:], strict=False):
        file_rsps.get(here, status=302, headers={"Location": there})

    assert refusal(fetcher, hops[0]) == "more than 3 redirects"
    # The first request and three redirects followed; the fourth (to hops[4]) is not.
    assert [call.request.url for call in file_rsps.calls] == hops[:4]


def test_three_redirects_are_followed(file_rsps, fetcher):
    hops = [f"https://files.teamleader.test/hop/{n}?sig=abc" for n in range(4)]
    for here, there in zip(hops, hops[1:], strict=False):
        file_rsps.get(here, status=302, headers={"Location": there})
    file_rsps.get(hops[3], body=PDF)

    assert fetcher.fetch_pdf(hops[0]) == PDF


def test_a_redirect_without_location_is_refused_with_its_status(file_rsps, fetcher):
    file_rsps.get(LOCATION, status=302)

    assert refusal(fetcher, LOCATION) == (
        "file host https://files.teamleader.test answered HTTP 302"
    )


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (requests.ConnectionError, "file host https://files.teamleader.test did not answer"),
        (requests.ConnectTimeout, "file host https://files.teamleader.test did not answer in time"),
        (requests.ReadTimeout, "file host https://files.teamleader.test did not answer in time"),
        (requests.exceptions.SSLError, "file host https://files.teamleader.test did not answer"),
    ],
)
def test_network_failures_are_refused_without_the_url(file_rsps, fetcher, error, reason):
    # requests puts the full URL in its messages; none of it may travel with the refusal.
    file_rsps.get(LOCATION, body=error(f"HTTPSConnectionPool: Max retries with url: {LOCATION}"))

    with pytest.raises(FileRefused) as raised:
        fetcher.fetch_pdf(LOCATION)

    assert raised.value.reason == reason
    assert raised.value.__suppress_context__
    assert raised.value.__cause__ is None


def test_a_download_broken_off_midway_is_refused(file_rsps, fetcher):
    class Broken(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            raise ProtocolError("Connection reset by peer")

    file_rsps.get(LOCATION, body=io.BufferedReader(Broken()))

    assert refusal(fetcher, LOCATION) == (
        "file host https://files.teamleader.test broke off the download"
    )
