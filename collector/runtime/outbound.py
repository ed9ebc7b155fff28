"""The outbound guard's refusals (``core.outbound``), shown in the reader's language: a
callback URL refused when saved, an attempt not sent, a download location refused."""

from __future__ import annotations

from collector.runtime.wordings import Wordings
from collector.runtime.wordings import known as _l

# The kinds of address ``core.outbound.refusal`` names, as msgids.
KINDS = {
    "loopback": _l("loopback"),
    "link-local": _l("link-local"),
    "multicast": _l("multicast"),
    "unspecified": _l("unspecified"),
    "unique-local": _l("unique-local"),
    "private": _l("private"),
    "reserved": _l("reserved"),
    "special use": _l("special use"),
}


def _as_is(value: str) -> str:
    return value


OUTBOUND = Wordings(
    _l("%(host)s is not a public address (%(kind)s)."),
    _l("%(host)s resolves to %(address)s, not a public address (%(kind)s)."),
    _l("%(host)s could not be found."),
    values={"kind": KINDS, "host": _as_is, "address": _as_is},
)
