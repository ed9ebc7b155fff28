"""The entity sets the emulator serves: name, OData type, properties, key, methods.

The API and the control API look entities up here by their path (``crm/Accounts``,
matched case-insensitively like Exact's URLs).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from . import fields as f
from . import fields_master as m

MODELS = "Exact.Web.Api.Models."


@dataclass(frozen=True)
class Entity:
    """One entity set and how its records look on the wire."""

    path: str
    model: str
    fields: tuple[str, ...]
    types: Mapping[str, str]
    key: str = "ID"
    methods: tuple[str, ...] = ("GET",)
    read_only: frozenset[str] = field(default=f.READ_ONLY)

    @property
    def odata_type(self) -> str:
        """``__metadata.type``."""
        return MODELS + self.model

    def type_of(self, name: str) -> str:
        """The Edm type name of a property (``String`` unless listed)."""
        return self.types.get(name, "String")

    @property
    def deferred(self) -> tuple[str, ...]:
        """Related collections, rendered as ``{"__deferred": {"uri": …}}``."""
        return tuple(n for n in self.fields if self.types.get(n) == f.DEFERRED)

    @property
    def properties(self) -> tuple[str, ...]:
        """Every property that holds a value (not a deferred collection)."""
        return tuple(n for n in self.fields if self.types.get(n) != f.DEFERRED)

    def blank(self) -> dict:
        """A record with every property null."""
        return dict.fromkeys(self.properties)

    def key_literal(self, value: object) -> str:
        """The key as it appears in a URI: ``guid'…'`` or a bare number."""
        return f"guid'{value}'" if isinstance(value, uuid.UUID) else str(value)


def _entity(path: str, model: str, names: list[str], types: Mapping, **kw) -> Entity:
    return Entity(path, model, tuple(names), types, **kw)


ME = _entity("current/Me", "System.Me", m.ME, m.ME_TYPES, key="UserID")
ALL = (
    _entity("system/Divisions", "System.Division", m.DIVISION, m.DIVISION_TYPES, key="Code"),
    _entity("financial/Journals", "Journal", m.JOURNAL, m.JOURNAL_TYPES),
    _entity("vat/VATCodes", "VATCode", m.VAT_CODE, m.VAT_CODE_TYPES),
    _entity("financial/GLAccounts", "GLAccount", m.GL_ACCOUNT, m.GL_ACCOUNT_TYPES),
    _entity(
        "cashflow/PaymentConditions",
        "PaymentCondition",
        m.PAYMENT_CONDITION,
        m.PAYMENT_CONDITION_TYPES,
    ),
    _entity("documents/DocumentTypes", "DocumentType", m.DOCUMENT_TYPE, m.DOCUMENT_TYPE_TYPES),
    _entity(
        "crm/Accounts",
        "Account",
        f.ACCOUNT,
        f.ACCOUNT_TYPES,
        methods=("GET", "POST"),
        read_only=f.READ_ONLY
        | {"ID", "CountryName", "LogoThumbnailUrl", "LogoUrl", "LanguageDescription"},
    ),
    _entity(
        "salesentry/SalesEntries",
        "SalesEntry",
        f.SALES_ENTRY,
        f.SALES_ENTRY_TYPES,
        key="EntryID",
        methods=("GET", "POST"),
        read_only=f.SALES_ENTRY_READ_ONLY,
    ),
    _entity(
        "salesentry/SalesEntryLines",
        "SalesEntryLine",
        f.SALES_ENTRY_LINE,
        f.SALES_ENTRY_LINE_TYPES,
        read_only=f.SALES_ENTRY_LINE_READ_ONLY,
    ),
    _entity(
        "documents/Documents",
        "Document",
        m.DOCUMENT,
        m.DOCUMENT_TYPES,
        methods=("GET", "POST"),
        read_only=m.DOCUMENT_READ_ONLY,
    ),
    _entity(
        "documents/DocumentAttachments",
        "DocumentAttachment",
        m.ATTACHMENT,
        m.ATTACHMENT_TYPES,
        methods=("GET", "POST"),
        read_only=m.ATTACHMENT_READ_ONLY,
    ),
    _entity("cashflow/Receivables", "Receivable", f.RECEIVABLE, f.RECEIVABLE_TYPES),
)
BY_PATH = {e.path.lower(): e for e in ALL}
# Navigation from an entity to a related set: (parent path, property) -> (child, foreign key).
NAVIGATION = {
    ("salesentry/SalesEntries", "SalesEntryLines"): ("salesentry/SalesEntryLines", "EntryID"),
}


def lookup(path: str) -> Entity | None:
    """The entity set at ``service/Entity`` (case-insensitive), or None."""
    return BY_PATH.get(path.lower())
