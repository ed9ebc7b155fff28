"""Reading ISO 20022 XML from outside, safely: the loader and the element helpers the
camt and pain.002 readers share.

Bank files come from people's downloads folders, so they are parsed with defusedxml and
anything a bank file never has — a DTD, an entity, an external reference — is refused
before it can expand (an XML bomb) or read a file (an external entity). Namespaces are
dropped after parsing: the versions of one message differ in namespace but mostly not in
element names, so one reader serves them all.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, ParseError

import defusedxml
from defusedxml import ElementTree as SafeTree

from collector.core.money import CENT

MAX_AMOUNT = Decimal(10) ** 18


def N_(text: str) -> str:
    """Marks a refusal for the catalogues (``make translations`` gathers N_): it is raised
    in English, and the upload says it in the reader's language (``bank_files``)."""
    return text


XML_BOMB = N_(
    "The file declares a DTD or entities, which bank files never do; it was refused unread "
    "because such XML can expand without end (an XML bomb) or read other files (%(error)s)."
)
BAD_ENCODING = N_(
    "The file declares a character encoding that cannot be read; bank files are UTF-8."
)
NOT_XML = N_(
    "The file is not well-formed XML (line %(line)s, column %(column)s): it may be cut off "
    "or not an XML export at all."
)


class BankFileError(ValueError):
    """A file that cannot be read as a bank file; the message says why, for a person."""


def load(content: bytes) -> tuple[str, Element]:
    """The root's namespace and the root, with every element's namespace removed."""
    try:
        root = SafeTree.fromstring(
            content, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DefusedXmlException as exc:
        raise BankFileError(XML_BOMB % {"error": type(exc).__name__}) from None
    except LookupError:
        raise BankFileError(BAD_ENCODING) from None
    except ParseError as exc:
        line, column = exc.position
        raise BankFileError(NOT_XML % {"line": line, "column": column + 1}) from None
    namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    for element in root.iter():
        if isinstance(element.tag, str):
            element.tag = element.tag.rsplit("}", 1)[-1]
    return namespace, root


def find(parent: Element | None, path: str) -> Element | None:
    """The first element at ``path`` ("A/B/C") under ``parent``, or None."""
    return None if parent is None else parent.find(path)


def findall(parent: Element | None, path: str) -> list[Element]:
    return [] if parent is None else parent.findall(path)


def text(parent: Element | None, *paths: str) -> str | None:
    """The stripped text of the first of ``paths`` that has some, or None."""
    for path in paths:
        element = find(parent, path)
        if element is not None and element.text and element.text.strip():
            return element.text.strip()
    return None


def code(parent: Element | None, path: str) -> str | None:
    """A code given as ``<path>TEXT</path>`` or ``<path><Cd>TEXT</Cd></path>`` (or Prtry):
    the shape of statuses and reasons changed between versions."""
    return text(parent, f"{path}/Cd", f"{path}/Prtry", f"{path}/Prtry/Cd", path)


def amount(element: Element | None, where: str) -> tuple[Decimal, str]:
    """The amount and currency of an ``Amt``-like element; refuses what is not one."""
    if element is None or not (element.text or "").strip():
        raise BankFileError(f"An amount is missing ({where}).")
    raw = element.text.strip()
    try:
        value = Decimal(raw)
        # ISO amounts have at most 18 digits; anything larger (1e400) is not one.
        if not value.is_finite() or not 0 <= value < MAX_AMOUNT:
            raise InvalidOperation
        exact = value.quantize(CENT)
    except InvalidOperation:
        raise BankFileError(f"'{raw[:40]}' is not an amount ({where}).") from None
    if exact != value:
        # Euro amounts in ISO 20022 have at most two decimals; rounding one would book
        # an amount the bank never moved.
        raise BankFileError(f"'{raw[:40]}' has a fraction of a cent ({where}).")
    return exact, (element.get("Ccy") or "EUR").upper()


def day(parent: Element | None, path: str, where: str) -> date | None:
    """A ``Dt`` or ``DtTm`` under ``path`` as a date; None when absent."""
    raw = text(parent, f"{path}/Dt", f"{path}/DtTm", path)
    if raw is None:
        return None
    try:
        if "T" in raw:
            return datetime.fromisoformat(raw).date()
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise BankFileError(f"'{raw[:40]}' is not a date ({where}).") from None


def flag(parent: Element | None, path: str) -> bool:
    return (text(parent, path) or "").lower() in ("true", "1")
