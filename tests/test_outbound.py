"""The outbound-URL guard: every form of an internal address is refused before any request
is made, a public one is let through, the connection goes to the address that was checked
(name kept for Host, SNI and the certificate), and each redirect is checked again.

Receivers are real servers on loopback; the names pointing at them come from a resolver the
test hands the guard, so a second resolution (by urllib3, by the system) would fail."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading

import pytest
import requests
import responses
from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from collector import create_app
from collector.core import outbound
from collector.core.outbound import (
    OutboundGuard,
    OutboundRefused,
    allowed_host,
    is_guarded,
    refusal,
)
from collector.runtime import outbound as outbound_wordings
from collector.runtime import setup as runtime_setup
from tests.conftest import app_config
from tests.support.dns import PUBLIC, answers


class Receiver:
    """A real HTTP(S) server on 127.0.0.1 that records what it was sent."""

    def __init__(self, answer=None, ssl_context=None) -> None:
        self.seen: list[dict] = []

        @Request.application
        def receive(request):
            self.seen.append({"host": request.host, "path": request.path})
            return answer(request) if answer else Response("ok")

        self.server = make_server("127.0.0.1", 0, receive, threaded=True, ssl_context=ssl_context)
        self.port = self.server.server_port
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


class CountingResolver:
    """Answers a fixed table and counts the questions: a second one would be a second
    resolution."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.asked: list[str] = []
        self._answer = answers(table, real=self._nothing_else)

    def __call__(self, host, port, *args):
        self.asked.append(host)
        return self._answer(host, port, *args)

    @staticmethod
    def _nothing_else(host, *args):
        raise OSError(f"no such name: {host}")


def guard(table: dict[str, list[str]], allowed: str = "") -> OutboundGuard:
    base = OutboundGuard.from_setting(allowed)
    return OutboundGuard(base.allowed, resolver=CountingResolver(table))


def refused(session: requests.Session, url: str) -> str:
    with pytest.raises(OutboundRefused) as raised:
        session.get(url, timeout=5)
    return raised.value.reason


# -- what is refused ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("10.0.0.8", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "special use"),  # carrier-grade NAT
        ("192.88.99.1", "special use"),  # 6to4 relay
        ("0.0.0.0", "unspecified"),  # noqa: S104 — an address checked, not bound
        ("224.0.0.1", "multicast"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fd12:3456::1", "unique-local"),
        ("ff02::1", "multicast"),
        ("::", "unspecified"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:0:a9fe:a9fe", "link-local"),  # IPv4-translated
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("2002:a00:1::", "private"),  # 6to4 of 10.0.0.1
        ("::7f00:1", "reserved"),  # IPv4-compatible 127.0.0.1
    ],
)
def test_each_internal_form_is_classified(address, kind):
    assert refusal(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "2606:2800:220:1::1", "64:ff9b::808:808", "2002:808:808::"]
)
def test_public_addresses_and_their_ipv6_forms_pass(address):
    assert refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://localhost./", "localhost. is not a public address (loopback)."),
        ("http://api.localhost/", "api.localhost is not a public address (loopback)."),
        ("http://[::1]/", "::1 is not a public address (loopback)."),
        ("http://[::7f00:1]/", "::7f00:1 is not a public address (reserved)."),
        (
            "https://[64:ff9b::a9fe:a9fe]/",
            "64:ff9b::a9fe:a9fe is not a public address (link-local).",
        ),
        ("https://[2002:7f00:1::]/", "2002:7f00:1:: is not a public address (loopback)."),
        ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1 is not a public address (loopback)."),
        ("http://169.254.169.254/latest", "169.254.169.254 is not a public address (link-local)."),
        (
            "http://2130706433/",
            "2130706433 resolves to 127.0.0.1, not a public address (loopback).",
        ),
        ("http://0x7f.1/", "0x7f.1 resolves to 127.0.0.1, not a public address (loopback)."),
    ],
)
def test_literal_forms_are_refused_before_any_request(receiver, url, reason):
    # The literals the resolver reads itself: no table needed, and none is consulted.
    session = OutboundGuard().session("test")
    assert refused(session, url) == reason
    assert receiver.seen == []


@pytest.mark.parametrize(
    ("address", "kind"), [("127.0.0.1", "loopback"), ("169.254.169.254", "link-local")]
)
def test_a_name_resolving_to_an_internal_address_is_refused(receiver, address, kind):
    # 127.0.0.1 is where the receiver listens: a request would reach it.
    session = guard({"evil.example": [address]}).session("test")
    url = f"http://evil.example:{receiver.port}/steal"
    assert refused(session, url) == (
        f"evil.example resolves to {address}, not a public address ({kind})."
    )
    assert receiver.seen == []


def test_one_internal_answer_among_public_ones_refuses_the_name(receiver):
    session = guard({"mixed.example": [PUBLIC, "127.0.0.1"]}).session("test")
    reason = refused(session, f"http://mixed.example:{receiver.port}/")
    assert reason == "mixed.example resolves to 127.0.0.1, not a public address (loopback)."
    assert receiver.seen == []


def test_only_http_and_https_urls_with_a_host_are_checked():
    for url, reason in [
        ("ftp://files.example/", "Use an http:// or https:// address."),
        ("https:///path", "The address needs a host name."),
        ("https://erp.example:99999/", "The address is not a well-formed URL."),
    ]:
        with pytest.raises(OutboundRefused) as raised:
            OutboundGuard().check(url)
        assert raised.value.reason == reason


def test_a_name_that_does_not_resolve_is_refused():
    session = guard({}).session("test")
    assert refused(session, "https://nowhere.example/") == "nowhere.example could not be found."


def test_a_proxy_is_refused_it_would_resolve_again():
    session = guard({"erp.example": [PUBLIC]}).session("test")
    with pytest.raises(OutboundRefused, match="proxy"):
        session.get("http://erp.example/", proxies={"http": "http://proxy.example:3128"})


# -- what is let through, and where it connects -------------------------------------------


def test_a_public_address_is_allowed_with_the_name_as_host():
    session = guard({"erp.example": [PUBLIC]}).session("test")
    with responses.RequestsMock() as upstream:
        upstream.get("https://erp.example/hooks", body="ok")
        assert session.get("https://erp.example/hooks", timeout=5).text == "ok"
        assert upstream.calls[0].request.headers["Host"] == "erp.example"


def test_the_pool_connects_to_the_checked_address_and_keeps_the_name_for_tls():
    session = guard({"erp.example": [PUBLIC]}).session("test")
    request = requests.Request("GET", "https://erp.example/hooks").prepare()
    adapter = session.get_adapter(request.url)
    destination = adapter.guard.check(request.url)
    request._outbound_destination = destination  # what send() records before connecting
    host, pool = adapter.build_connection_pool_key_attributes(request, True)
    assert host["host"] == PUBLIC
    assert pool["server_hostname"] == pool["assert_hostname"] == "erp.example"


def test_a_connection_goes_to_the_address_resolved_once(receiver):
    # "sandbox.test" exists only in the guard's resolver: if anything resolved the name a
    # second time, the request would fail; the resolver is asked exactly once.
    checked = guard({"sandbox.test": ["127.0.0.1"]}, allowed="sandbox.test")
    session = checked.session("test")
    answer = session.get(f"http://sandbox.test:{receiver.port}/files/1", timeout=5)
    assert answer.status_code == 200
    assert checked.resolver.asked == ["sandbox.test"]
    assert receiver.seen == [{"host": f"sandbox.test:{receiver.port}", "path": "/files/1"}]


def test_an_allowed_host_on_another_port_is_still_refused(receiver):
    session = guard({"sandbox.test": ["127.0.0.1"]}, allowed="sandbox.test:1").session("test")
    assert "loopback" in refused(session, f"http://sandbox.test:{receiver.port}/")
    assert receiver.seen == []


def _certificate(tmp_path, name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    # OpenSSL checks the dates against the system's clock, which the moved-clock run does
    # not move: a window that holds for any clock a test may set.
    valid_from = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from)
        .not_valid_after(valid_from + dt.timedelta(days=100 * 365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)


@pytest.fixture
def tls_receiver(tmp_path):
    cert, key = _certificate(tmp_path, "secure.test")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    server = Receiver(ssl_context=context)
    yield server, cert, names
    server.close()


def test_tls_to_the_pinned_address_sends_the_name_and_checks_the_certificate(
    tls_receiver, tmp_path
):
    server, cert, sni = tls_receiver
    checked = guard({"secure.test": ["127.0.0.1"]}, allowed="secure.test")
    session = checked.session("test")
    answer = session.get(f"https://secure.test:{server.port}/in", verify=cert, timeout=5)
    assert answer.status_code == 200
    assert sni == ["secure.test"] and server.seen[0]["host"] == f"secure.test:{server.port}"

    # The same server under a name its certificate does not carry: refused by TLS.
    other = guard({"other.test": ["127.0.0.1"]}, allowed="other.test").session("test")
    with pytest.raises(requests.exceptions.SSLError):
        other.get(f"https://other.test:{server.port}/in", verify=cert, timeout=5)
    assert len(server.seen) == 1


# -- redirects ----------------------------------------------------------------------------


def test_a_redirect_to_a_private_address_is_refused(receiver):
    inside = Receiver()
    try:

        def bounce(request):
            return Response(status=302, headers={"Location": f"http://inside.test:{inside.port}/"})

        outside = Receiver(answer=bounce)
        table = {"files.test": ["127.0.0.1"], "inside.test": ["127.0.0.1"]}
        # files.test stands for a public host (allowed here only because it runs on loopback).
        session = guard(table, allowed="files.test").session("test")
        reason = refused(session, f"http://files.test:{outside.port}/doc.pdf")
        assert reason == "inside.test resolves to 127.0.0.1, not a public address (loopback)."
        assert len(outside.seen) == 1 and inside.seen == []
        outside.close()
    finally:
        inside.close()


# -- the setting --------------------------------------------------------------------------


def test_the_setting_takes_hosts_with_or_without_port():
    assert OutboundGuard.from_setting(" 127.0.0.1:5001, localhost ,").allowed == {
        ("127.0.0.1", 5001),
        ("localhost", None),
    }
    assert OutboundGuard.from_setting("").allowed == frozenset()
    for wrong in ("http://x/", "x:port", "user@x", "x/path"):
        with pytest.raises(ValueError, match="host\\[:port\\]"):
            allowed_host(wrong)


def test_a_session_is_guarded_for_both_schemes():
    assert is_guarded(OutboundGuard().session("test"))
    assert not is_guarded(requests.Session())


def _production(tmp_path, **overrides) -> dict:
    """Settings production accepts, but for what a test changes."""
    return {
        "ENV": "production",
        "SECRET_KEY": "q8V1k3X9zR2m7Lp0Tw5Yb6Nc4Hd8Jf1Gs3Ae9Ku2Oi7",
        "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "PUBLIC_BASE_URL": "https://collector.example",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "OUTBOUND_ALLOWED_HOSTS": "",
        **overrides,
    }


def test_production_refuses_to_start_with_allowed_internal_hosts(tmp_path):
    with pytest.raises(RuntimeError, match="OUTBOUND_ALLOWED_HOSTS must be empty in production"):
        create_app(_production(tmp_path, OUTBOUND_ALLOWED_HOSTS="127.0.0.1:5001"))
    app = create_app(_production(tmp_path))
    assert runtime_setup.outbound_guard(app).allowed == frozenset()


def test_a_malformed_allowed_host_stops_the_start(tmp_path):
    config = app_config(tmp_path, OUTBOUND_ALLOWED_HOSTS="http://127.0.0.1:5001/")
    with pytest.raises(ValueError, match="OUTBOUND_ALLOWED_HOSTS takes host"):
        create_app(config)


def test_every_kind_of_refusal_can_be_shown_translated():
    assert set(outbound.KINDS) == set(outbound_wordings.KINDS)
