"""Reading a pain.008 as the bank would: its ISO schema (sepaxml's bundled copy, loaded
here with xmlschema, not through sepaxml's own check) and each collection's SeqTp."""

from __future__ import annotations

from pathlib import Path

import sepaxml
import xmlschema
from defusedxml import ElementTree

SCHEMAS = Path(sepaxml.__file__).parent / "schemas"
PAIN008_02 = "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"


def schema(version: str = "pain.008.001.02") -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(SCHEMAS / f"{version}.xsd")


def sequence_types(content: bytes, namespace: str = PAIN008_02) -> dict[str, str]:
    """End-to-end id → the SeqTp of its batch."""
    ns = {"p": namespace}
    root = ElementTree.fromstring(content)
    return {
        e2e.text: batch.findtext("p:PmtTpInf/p:SeqTp", namespaces=ns)
        for batch in root.iterfind("p:CstmrDrctDbtInitn/p:PmtInf", ns)
        for e2e in batch.iterfind("p:DrctDbtTxInf/p:PmtId/p:EndToEndId", ns)
    }
