"""Belgian structured communications (OGM-VCS, ``+++ddd/dddd/ddddd+++``) for bank transfers.

A bank transfer is matched to its document by this reference, so every document has
one: Teamleader's when it is a valid structured communication, else one made from the
document's id, which ``invoice_id_from_reference`` reads back when a bank file arrives.
"""

from __future__ import annotations

import re

from stdnum.be import ogm_vcs

from collector.documents.models import Invoice

# Ten digits carry the id; two more are its check digits.
MAX_ID = 10**10 - 1
# Banks print the reference with +++ or ***, slashes and spaces, in any combination.
_DECORATION = re.compile(r"[\s+*/]")


def structured_reference(invoice: Invoice) -> str:
    """The reference a transfer for ``invoice`` must carry: Teamleader's if valid, else ours."""
    teamleader = _digits(invoice.payment_reference or "")
    if ogm_vcs.is_valid(teamleader):
        return _display(teamleader)
    return reference_for_id(invoice.id)


def reference_for_id(invoice_id: int) -> str:
    """The structured communication generated for the document with id ``invoice_id``."""
    if not 0 < invoice_id <= MAX_ID:
        raise ValueError(f"a structured reference holds ids 1 to {MAX_ID}")
    base = f"{invoice_id:010d}"
    check = invoice_id % 97 or 97  # OGM-VCS: a remainder of 0 is written 97
    return _display(ogm_vcs.validate(f"{base}{check:02d}"))


def invoice_id_from_reference(text: str) -> int | None:
    """The document id inside a reference we generated, or None if ``text`` is not one."""
    digits = _digits(text or "")
    if not ogm_vcs.is_valid(digits):
        return None
    # Teamleader's references are valid too but do not hold our ids; a caller matching a
    # bank line checks the document's own reference first.
    return int(digits[:10]) or None


def _digits(text: str) -> str:
    return _DECORATION.sub("", text)


def _display(number: str) -> str:
    # stdnum formats without the pluses ("084/2613/66074"); payers and banks expect them.
    return f"+++{ogm_vcs.format(number)}+++"
