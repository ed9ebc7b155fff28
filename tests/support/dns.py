"""A stand-in for DNS (the process edge): names the tests make up resolve to the addresses
they say; every other name goes to the real resolver. There is no internet here, so a
test that means "a public host" names one here and serves it through ``responses``."""

from __future__ import annotations

import ipaddress
import socket

import pytest

PUBLIC = "93.184.216.34"  # an address on the public internet; nothing here connects to it


def answers(table: dict[str, list[str]], real=socket.getaddrinfo):
    """A ``getaddrinfo`` that answers the names in ``table`` (lower case) itself."""

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else host
        if name is None or name.lower() not in table:
            return real(host, port, family, type, proto, flags)
        infos = []
        for address in table[name.lower()]:
            v6 = ipaddress.ip_address(address).version == 6
            family_ = socket.AF_INET6 if v6 else socket.AF_INET
            sockaddr = (address, int(port or 0), 0, 0) if v6 else (address, int(port or 0))
            infos.append((family_, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr))
        return infos

    return getaddrinfo


@pytest.fixture
def dns(monkeypatch) -> dict[str, list[str]]:
    """The names a test adds (``dns["erp.example"] = [PUBLIC]``) resolve as it says."""
    table: dict[str, list[str]] = {}
    monkeypatch.setattr(socket, "getaddrinfo", answers(table))
    return table
