"""Fetching the short-lived location ``invoices.download`` / ``creditNotes.download`` return.

Reference §6.4: the answer is ``{location, expires}``, a temporary URL to fetch right away,
with no auth header implied. A location is untrusted input that makes us send a request, so
it must be https (plain http only for the configured sandbox host), and it goes through the
outbound guard (``core.outbound``): no private address, however the name or the IPv6 form
dresses it, and each redirect is checked again. What comes back must be a PDF of bounded size.

A location is typically a pre-signed URL whose path and query carry a signature: no reason,
message or log line written here contains more of it than the scheme and host.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple
from urllib.parse import urljoin, urlsplit

import requests

from collector.core.outbound import OutboundRefused, is_guarded

MAX_BYTES = 20 * 1024 * 1024
TIMEOUT = (5, 30)
MAX_REDIRECTS = 3
CHUNK_SIZE = 64 * 1024
PDF_MAGIC = b"%PDF-"
# PDF readers accept a header anywhere in the first 1024 bytes (some generators put junk, a
# BOM or whitespace before it), so a stricter check would refuse files users can open.
MAGIC_WINDOW = 1024
DEFAULT_PORTS = {"http": 80, "https": 443}
# Pre-signed URLs answer these once expired, revoked or already cleaned up.
REFUSED_STATI = frozenset({403, 404, 410})
HEADERS = {"Accept": "application/pdf, */*"}
# Spaces, control characters and backslashes are read differently by different URL parsers;
# the host we check must be the host requests connects to.
_AMBIGUOUS = re.compile(r"[\x00-\x20\x7f\\]")
_MIMETYPE = re.compile(r"[\w.+-]{1,40}/[\w.+-]{1,60}")


class FileRefused(Exception):
    """A location was not fetched, or did not serve an acceptable PDF.

    ``reason`` is short and fit for an event on the document: it names at most the scheme
    and host of a location, never its path or query (they carry signatures).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FileFetcher:
    """Fetches PDFs from download locations: no credentials sent, redirects followed by
    hand and checked hop by hop, size capped while streaming. ``session`` must come from
    an ``OutboundGuard``, which refuses internal addresses."""

    def __init__(
        self,
        session: requests.Session,
        *,
        plain_http_hosts: Iterable[str] = (),
        max_bytes: int = MAX_BYTES,
        timeout: float | tuple[float, float] = TIMEOUT,
        max_redirects: int = MAX_REDIRECTS,
    ) -> None:
        if not is_guarded(session):
            raise ValueError("FileFetcher needs a session made by an OutboundGuard")
        self._session = session
        self._plain_http = frozenset(_configured_host(entry) for entry in plain_http_hosts)
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.max_redirects = max_redirects

    def fetch_pdf(self, location: str) -> bytes:
        """Return the PDF behind ``location``; raise FileRefused saying why not."""
        url = location
        for hop in range(self.max_redirects + 1):
            prefix = "redirect refused: " if hop else ""
            origin = self._check(url, prefix)
            with self._get(url, origin, prefix) as response:
                target = self._session.get_redirect_target(response)
                if target is None:
                    return self._accept(response, origin)
            url = urljoin(url, target)
        raise FileRefused(f"more than {self.max_redirects} redirects")

    def _check(self, url: str, prefix: str) -> str:
        """Refuse a URL we must not request; return its origin (scheme and host) for reasons.
        The addresses it names are the session's guard's to check."""
        target = _Target.parse(url, prefix)
        if target.userinfo:
            raise FileRefused(f"{prefix}location {target.origin} carries credentials")
        if self._is_sandbox(target):
            return target.origin
        if target.scheme != "https":
            raise FileRefused(f"{prefix}plain http to {target.origin} is not allowed")
        return target.origin

    def _is_sandbox(self, target: _Target) -> bool:
        """Whether the URL's host and port are a configured plain-http (sandbox) host."""
        if (target.host, target.port) in self._plain_http:
            return True
        # A host configured without a port stands for the scheme's default port.
        default = DEFAULT_PORTS[target.scheme]
        return target.port == default and (target.host, None) in self._plain_http

    def _get(self, url: str, origin: str, prefix: str) -> requests.Response:
        """Send the GET, streaming; a refused address and network failures become
        FileRefused."""
        # ``from None``: requests' messages quote the whole URL, signature included, and a
        # chained exception would carry it into logs and error reports.
        try:
            return self._session.get(
                url,
                headers=HEADERS,
                auth=_no_credentials,
                timeout=self.timeout,
                allow_redirects=False,
                stream=True,
            )
        except OutboundRefused as refused:
            raise FileRefused(f"{prefix}{refused.reason}") from None
        except requests.Timeout:
            raise FileRefused(f"file host {origin} did not answer in time") from None
        except requests.ConnectionError:
            raise FileRefused(f"file host {origin} did not answer") from None
        except requests.RequestException:
            raise FileRefused(f"file host {origin} could not be reached") from None

    def _accept(self, response: requests.Response, origin: str) -> bytes:
        """Check the status, read the body within the cap, and check it is a PDF."""
        status = response.status_code
        if status in REFUSED_STATI:
            raise FileRefused(f"download location expired or refused (HTTP {status})")
        if not 200 <= status < 300:
            raise FileRefused(f"file host {origin} answered HTTP {status}")
        body = self._read(response, origin)
        if not body:
            raise FileRefused("file is empty")
        if PDF_MAGIC not in body[:MAGIC_WINDOW]:
            raise FileRefused(f"file is not a PDF{_described_type(response)}")
        return body

    def _read(self, response: requests.Response, origin: str) -> bytes:
        """The body, refused as soon as it is known to exceed ``max_bytes``."""
        if _content_length(response) > self.max_bytes:
            raise FileRefused(f"file is larger than {self.max_bytes} bytes")
        body = bytearray()
        try:
            # Counts decoded bytes: a small gzip body cannot unpack past the cap either.
            for chunk in response.iter_content(CHUNK_SIZE):
                body += chunk
                if len(body) > self.max_bytes:
                    raise FileRefused(f"file is larger than {self.max_bytes} bytes")
        except requests.RequestException:
            raise FileRefused(f"file host {origin} broke off the download") from None
        return bytes(body)


def _no_credentials(request: requests.PreparedRequest) -> requests.PreparedRequest:
    """Auth hook that sends none: a pre-signed location needs no credentials (§6.4)."""
    # An explicit hook also keeps the session's auth and ~/.netrc (which requests reads when
    # no auth is given) off a request to a host we do not control.
    request.headers.pop("Authorization", None)
    return request


class _Target(NamedTuple):
    """The parts of a location that decide whether we may request it."""

    scheme: str
    host: str  # lower case, IPv6 without brackets
    port: int  # explicit, or the scheme's default
    userinfo: bool

    @property
    def origin(self) -> str:
        """Scheme and host: all of a location a reason may show."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}"

    @classmethod
    def parse(cls, url: str, prefix: str = "") -> _Target:
        """Parse a location; refuse what is not an http(s) URL with a host."""
        malformed = FileRefused(f"{prefix}location is not a well-formed URL")
        if not isinstance(url, str) or _AMBIGUOUS.search(url):
            raise malformed
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise malformed from None
        if parts.scheme not in DEFAULT_PORTS:
            raise FileRefused(f"{prefix}scheme {parts.scheme[:16] or '(none)'} is not allowed")
        if not parts.hostname:
            raise FileRefused(f"{prefix}location has no host")
        port = DEFAULT_PORTS[parts.scheme] if port is None else port
        return cls(parts.scheme, parts.hostname, port, "@" in parts.netloc)


def _configured_host(entry: str) -> tuple[str, int | None]:
    """``(host, port or None)`` of a configured ``host[:port]``, lower case."""
    wrong = ValueError(f"plain_http_hosts takes host[:port] entries, not {entry!r}")
    parts = urlsplit(f"//{entry.strip()}")
    try:
        port = parts.port
    except ValueError:
        raise wrong from None
    if not parts.hostname or "@" in parts.netloc or parts.path or parts.query:
        raise wrong
    return parts.hostname, port


def _content_length(response: requests.Response) -> int:
    """The announced length, or 0 when absent or unreadable (the streaming cap still holds)."""
    try:
        return int(response.headers.get("Content-Length", "0"))
    except ValueError:
        return 0


def _described_type(response: requests.Response) -> str:
    """`` (text/html)`` when the response names a plausible content type, else nothing."""
    mimetype = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    return f" ({mimetype})" if _MIMETYPE.fullmatch(mimetype) else ""
