"""Answer the emulator's authorize page without a browser, as the user would.

For tests and benchmarks that need a code but are not about the consent page itself.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

FORM = re.compile(r'<form method="post" action="([^"]+)"')
FIELD = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def authorization_code(authorize_url: str, decision: str = "authorize") -> str | None:
    """Open ``authorize_url``, press Authorize (or Deny); return the URL-decoded code, or
    None when denied."""
    http = requests.Session()
    page = http.get(authorize_url, timeout=10)
    page.raise_for_status()
    form = FORM.search(page.text)
    if form is None:
        raise RuntimeError(f"no consent form on the authorize page: {page.text[:200]}")
    fields = {name: html.unescape(value) for name, value in FIELD.findall(page.text)}
    answer = http.post(
        urljoin(page.url, html.unescape(form.group(1))),
        data={**fields, "decision": decision},
        allow_redirects=False,
        timeout=10,
    )
    if answer.status_code not in (302, 303):
        raise RuntimeError(f"authorize page answered {answer.status_code}: {answer.text[:200]}")
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    return query["code"][0] if "code" in query else None
