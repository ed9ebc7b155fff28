"""One guard for every request to a URL that came from outside (a callback URL an admin
typed, a download location Teamleader answered): no request of ours may reach this
machine, the private network or the cloud's metadata service on an outsider's behalf.

The guard resolves the name once, refuses it when any address it resolves to is not on the
public internet (loopback, private, link-local, unique-local, multicast, reserved,
unspecified, and those IPv4 addresses written as IPv6: mapped, translated, NAT64, 6to4,
IPv4-compatible), and connects to the address it checked: the connection pool is made for
that address, while the Host header, TLS SNI and the certificate check keep the name. A
rebinding DNS that answers a public address to the check and 127.0.0.1 to the connect has
no second question to answer. Every redirect a session follows is a new request, checked
again.

``allowed`` names the hosts (``host`` or ``host:port``) that may be internal all the same:
the sandbox emulators in development and tests (OUTBOUND_ALLOWED_HOSTS, refused in
production). No Flask.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.connection import allowed_gai_family

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., list]
DEFAULT_PORTS = {"http": 80, "https": 443}
# Request attribute carrying what the adapter checked to the pool it connects through.
_CHECKED = "_outbound_destination"

# Ranges ipaddress does not (yet, in every Python we run on) count as non-global.
_NOT_PUBLIC = tuple(
    ipaddress.ip_network(net)
    for net in (
        "192.0.0.0/24",  # IETF protocol assignments
        "192.88.99.0/24",  # 6to4 relay anycast
        "100.64.0.0/10",  # carrier-grade NAT: reaches a provider's internal hosts
        "64:ff9b:1::/48",  # local-use NAT64
        "3fff::/20",  # documentation
        "5f00::/16",  # segment routing
    )
)
# What ``refusal`` answers: the words a refusal's reason may carry.
KINDS = (
    "loopback",
    "link-local",
    "multicast",
    "unspecified",
    "unique-local",
    "private",
    "reserved",
    "special use",
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")
_COMPATIBLE = ipaddress.ip_network("::/96")  # IPv4-compatible, deprecated
_ULA = ipaddress.ip_network("fc00::/7")


class OutboundRefused(requests.RequestException):
    """A URL we will not request. ``reason`` names the host and why, never a path or query
    (a download location's signature lives there)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unresolved(OutboundRefused):
    """The name did not resolve (no such host, or DNS down for now)."""


@dataclass(frozen=True)
class Destination:
    """What was checked: the URL's host and port, and the address to connect to."""

    scheme: str
    host: str  # lower case, IPv6 without brackets
    port: int
    address: str


def refusal(address: Address) -> str | None:
    """Why ``address`` is not on the public internet (one of ``KINDS``), or None."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return refusal(embedded)
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_unspecified:
        return "unspecified"
    if isinstance(address, ipaddress.IPv6Address) and (address.is_site_local or address in _ULA):
        return "unique-local"
    if address.is_private:
        return "private"
    if address.is_reserved or address in _COMPATIBLE:
        return "reserved"
    if not address.is_global or any(address in net for net in _NOT_PUBLIC):
        return "special use"
    return None


def _embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form stands for (mapped, translated, NAT64, 6to4), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _TRANSLATED or address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    return None


@dataclass(frozen=True)
class OutboundGuard:
    """Checks outside URLs and makes sessions that connect only to checked addresses."""

    allowed: frozenset[tuple[str, int | None]] = frozenset()
    # Looked up when called, so a test can stand in for DNS (socket.getaddrinfo).
    resolver: Resolver | None = field(default=None, compare=False)

    @classmethod
    def from_setting(cls, entries: str | Iterable[str]) -> OutboundGuard:
        """A guard allowing the internal ``host[:port]`` entries (a comma-separated text or a
        list); a malformed entry raises ValueError."""
        if isinstance(entries, str):
            entries = entries.split(",")
        return cls(frozenset(allowed_host(e) for e in entries if e.strip()))

    def check(self, url: str) -> Destination:
        """Resolve ``url``'s host and return where to connect; raise OutboundRefused."""
        scheme, host, port = _parts(url)
        if self._allows(host, port):
            return Destination(scheme, host, port, self._addresses(host, port)[0])
        if host.rstrip(".") == "localhost" or host.rstrip(".").endswith(".localhost"):
            raise OutboundRefused(f"{host} is not a public address (loopback).")
        addresses = self._addresses(host, port)
        for address in addresses:
            checked = ipaddress.ip_address(address)
            why = refusal(checked)
            if why is None:
                continue
            if _literal(host) == checked:
                raise OutboundRefused(f"{host} is not a public address ({why}).")
            raise OutboundRefused(f"{host} resolves to {checked}, not a public address ({why}).")
        return Destination(scheme, host, port, addresses[0])

    def session(self, user_agent: str, accept: str = "application/json") -> requests.Session:
        """A session whose every request (and redirect) goes through ``check`` and
        connects to the checked address; no proxies, ~/.netrc or certificates from the
        environment."""
        session = requests.Session()
        session.trust_env = False
        session.headers["User-Agent"] = user_agent
        session.headers["Accept"] = accept
        adapter = GuardedAdapter(self)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    def _allows(self, host: str, port: int) -> bool:
        return (host, port) in self.allowed or (host, None) in self.allowed

    def _addresses(self, host: str, port: int) -> list[str]:
        resolve = self.resolver or socket.getaddrinfo
        try:
            found = resolve(host, port, allowed_gai_family(), socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise Unresolved(f"{host} could not be found.") from None
        addresses = [info[4][0] for info in found if info[0] in (socket.AF_INET, socket.AF_INET6)]
        if not addresses:
            raise Unresolved(f"{host} could not be found.")
        # A scoped IPv6 answer ("fe80::1%eth0"): the scope is not part of the address.
        return [address.split("%", 1)[0] for address in addresses]


def is_guarded(session: requests.Session) -> bool:
    """Whether every http(s) request of ``session`` goes through an outbound guard."""
    return all(isinstance(session.get_adapter(f"{s}://x"), GuardedAdapter) for s in DEFAULT_PORTS)


def allowed_host(entry: str) -> tuple[str, int | None]:
    """``(host, port or None)`` of an OUTBOUND_ALLOWED_HOSTS ``host[:port]`` entry."""
    wrong = ValueError(f"OUTBOUND_ALLOWED_HOSTS takes host[:port] entries, not {entry!r}")
    parts = urlsplit(f"//{entry.strip()}")
    try:
        port = parts.port
    except ValueError:
        raise wrong from None
    if not parts.hostname or "@" in parts.netloc or parts.path or parts.query:
        raise wrong
    return parts.hostname, port


class GuardedAdapter(HTTPAdapter):
    """Checks each request before sending it and connects its pool to the checked address.

    ``send`` checks (a stand-in for the network such as ``responses`` replaces only
    HTTPAdapter's own ``send``, so tests go through the check too); the pool is keyed by the
    address and keeps the name for the Host header, SNI and the certificate.
    """

    def __init__(self, guard: OutboundGuard) -> None:
        super().__init__(max_retries=0)
        self.guard = guard

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any):
        if kwargs.get("proxies"):
            raise OutboundRefused("a proxy would resolve the name again; none may be used")
        destination = self.guard.check(request.url)
        setattr(request, _CHECKED, destination)
        request.headers["Host"] = _host_header(destination)
        return super().send(request, *args, **kwargs)

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        destination = getattr(request, _CHECKED, None)
        if destination is None or destination.host != host_params["host"].strip("[]").lower():
            raise OutboundRefused("request was not checked before connecting")
        if destination.address != destination.host:
            host_params["host"] = destination.address
            if destination.scheme == "https":
                pool_kwargs["server_hostname"] = destination.host
                pool_kwargs["assert_hostname"] = destination.host
        return host_params, pool_kwargs


def _parts(url: str) -> tuple[str, str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except (TypeError, ValueError, AttributeError):
        raise OutboundRefused("The address is not a well-formed URL.") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise OutboundRefused("Use an http:// or https:// address.")
    if not parts.hostname:
        raise OutboundRefused("The address needs a host name.")
    host = parts.hostname.lower()
    return scheme, host, DEFAULT_PORTS[scheme] if port is None else port


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _host_header(destination: Destination) -> str:
    host = f"[{destination.host}]" if ":" in destination.host else destination.host
    if destination.port == DEFAULT_PORTS[destination.scheme]:
        return host
    return f"{host}:{destination.port}"
