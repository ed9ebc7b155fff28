"""The recorded third-party payloads in tests/fixtures/ (copied from shared/reference)."""

import json
from pathlib import Path

TEAMLEADER = Path(__file__).resolve().parent.parent / "fixtures" / "teamleader"


def teamleader_payload(name: str) -> dict:
    """A Teamleader payload from tests/fixtures/teamleader (see its README)."""
    return json.loads((TEAMLEADER / name).read_text())
