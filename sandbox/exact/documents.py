"""``POST documents/Documents`` and ``documents/DocumentAttachments`` (reference §6).

A document needs ``Subject`` and an existing ``Type``; ``Account`` is optional but must
exist. An attachment needs an existing ``Document``, a ``FileName`` and the file as base64
(raw text fails while the body is read, see ``payload``). The answer echoes no content:
``Attachment`` is null, ``FileSize`` and ``Url`` are filled.
"""

from __future__ import annotations

import uuid

from . import entities, errors
from .clock import as_day
from .context import Context

CATEGORY = uuid.UUID("90f98168-38ec-4ef7-876f-1eb5d3ba1863")  # "Customers", as in the fixture


def create_document(ctx: Context, values: dict) -> dict:
    """Validate and store a document; return the record."""
    messages = []
    if not str(values.get("Subject") or "").strip():
        messages.append("Mandatory: Subject")
    kind = None
    if values.get("Type") is None:
        messages.append("Mandatory: Type")
    else:
        kind = ctx.get("documents/DocumentTypes", values["Type"])
        if kind is None:
            messages.append("Invalid reference: Type")
    account = None
    if values.get("Account") is not None:
        account = ctx.get("crm/Accounts", values["Account"])
        if account is None:
            messages.append("Invalid reference: Account")
    if messages:
        raise errors.validation(messages)
    table = ctx.division.table("documents/Documents")
    record = entities.lookup("documents/Documents").blank()
    record.update(values)
    record.update(ctx.audit())
    ident = uuid.uuid4()
    record.update(
        ID=ident,
        AccountCode=account["Code"] if account else None,
        AccountName=account["Name"] if account else None,
        Category=CATEGORY if account else None,
        CategoryDescription="Customers" if account else None,
        Currency=ctx.division.header["Currency"],
        DocumentDate=as_day(values.get("DocumentDate") or ctx.now),
        DocumentViewUrl=_url(ctx, "DocViewContent.aspx", ident),
        HasEmptyBody=not values.get("Body"),
        HID=max((r["HID"] for r in table.values()), default=0) + 1,
        TypeDescription=kind["Description"],
        SendMethod=values.get("SendMethod") or 0,
        InheritShare=bool(values.get("InheritShare")),
    )
    table[ident] = record
    return record


def create_attachment(ctx: Context, values: dict) -> dict:
    """Validate and store an attachment of a document; return the record."""
    messages = []
    if values.get("Document") is None:
        messages.append("Mandatory: Document")
    elif ctx.get("documents/Documents", values["Document"]) is None:
        messages.append("Invalid reference: Document")
    if not str(values.get("FileName") or "").strip():
        messages.append("Mandatory: FileName")
    if values.get("Attachment") is None:
        messages.append("Mandatory: Attachment")
    if messages:
        raise errors.validation(messages)
    content, ident = values["Attachment"], uuid.uuid4()
    record = entities.lookup("documents/DocumentAttachments").blank()
    record.update(
        ID=ident,
        Document=values["Document"],
        FileName=values["FileName"],
        FileSize=len(content),
        Url=_url(ctx, "SysAttachment.aspx", ident),
        Attachment=None,
    )
    record["_content"] = content
    ctx.division.table("documents/DocumentAttachments")[ident] = record
    return record


def _url(ctx: Context, page: str, ident: uuid.UUID) -> str:
    return f"{ctx.site_root}docs/{page}?ID={ident}&_Division_={ctx.division.code}"
