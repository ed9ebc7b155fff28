"""Answer the emulator's authorize page without a browser, as a user would.

For tests and benchmarks that need a code but are not about the consent page
itself (the browser tests press the real buttons).
"""

import re
from urllib.parse import urljoin

import requests

FORM = re.compile(r'<form method="post" action="([^"]+)"')
FIELD = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
CODE = re.compile(r"[?&]code=([^&]+)")


def authorization_code(authorize_url: str, decision: str = "grant") -> str | None:
    """Open ``authorize_url``, press Grant (or Deny); return the code, or None when denied."""
    http = requests.Session()
    page = http.get(authorize_url, timeout=10)
    page.raise_for_status()
    action = FORM.search(page.text).group(1).replace("&amp;", "&")
    answer = http.post(
        urljoin(page.url, action),
        data={**dict(FIELD.findall(page.text)), "decision": decision},
        allow_redirects=False,
        timeout=10,
    )
    if answer.status_code not in (302, 303):
        raise RuntimeError(f"authorize page answered {answer.status_code}: {answer.text[:200]}")
    match = CODE.search(answer.headers["Location"])
    return match.group(1) if match else None
