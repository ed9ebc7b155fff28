"""documents/Documents and documents/DocumentAttachments of the Exact emulator (§6)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from .exact_support import Caller, logged_in, seeded

PDF = b"%PDF-1.4\n% an invoice\n%%EOF\n"


@pytest.fixture
def exact() -> Caller:
    return logged_in()


def _document(exact, **overrides) -> dict:
    body = {"Subject": "Invoice 2026/0012", "Type": 10, "Account": seeded("account", 1)}
    return exact.created("documents/Documents", {**body, "DocumentDate": "2026-03-15", **overrides})


def test_document_is_created_like_the_fixture(exact):
    made = _document(exact)
    assert made["__metadata"]["type"] == "Exact.Web.Api.Models.Document"
    assert made["TypeDescription"] == "Sales invoice"
    assert made["AccountName"] == "Brouwerij De Klok"
    assert made["DocumentDate"] == "/Date(1773532800000)/"
    assert made["HID"] == 1
    assert f"ID={made['ID']}" in made["DocumentViewUrl"]
    fetched = exact.get(f"documents/Documents(guid'{made['ID']}')").get_json()["d"]
    assert fetched["Subject"] == "Invoice 2026/0012"


def test_document_without_account_is_allowed(exact):
    made = _document(exact, Account=None)
    assert made["Account"] is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"Subject": ""}, "Mandatory: Subject"),
        ({"Type": 999}, "Invalid reference: Type"),
        ({"Account": seeded("account", 404)}, "Invalid reference: Account"),
    ],
)
def test_document_validation_failures(exact, overrides, message):
    body = {"Subject": "x", "Type": 10, **overrides}
    response = exact.post("documents/Documents", body)
    assert response.status_code == 500
    assert response.get_json()["error"]["message"]["value"] == message


def test_attachment_takes_base64_and_answers_without_content(exact):
    document = _document(exact)
    body = {
        "Document": document["ID"],
        "FileName": "2026-0012.pdf",
        "Attachment": base64.b64encode(PDF).decode(),
    }
    response = exact.post("documents/DocumentAttachments", body)
    made = response.get_json()["d"]
    assert response.status_code == 201
    assert list(made) == [
        "__metadata",
        "ID",
        "Attachment",
        "FileName",
        "FileSize",
        "Url",
        "Document",
    ]
    assert made["Attachment"] is None and made["FileSize"] == len(PDF)
    assert "SysAttachment.aspx?ID=" in made["Url"]
    (stored,) = exact.client.get("/_control/documents").get_json()
    assert stored["ID"] == document["ID"]
    assert stored["attachments"] == [
        {
            "ID": made["ID"],
            "FileName": "2026-0012.pdf",
            "size": len(PDF),
            "sha256": hashlib.sha256(PDF).hexdigest(),
        }
    ]


def test_raw_attachment_is_a_conversion_error(exact):
    document = _document(exact)
    body = {"Document": document["ID"], "FileName": "a.pdf", "Attachment": PDF.decode()}
    response = exact.post("documents/DocumentAttachments", body)
    assert response.status_code == 400
    message = response.get_json()["error"]["message"]["value"]
    assert message.startswith("Error processing request stream. Error encountered in converting")
    assert "to type 'Byte[]'" in message


def test_attachment_needs_an_existing_document(exact):
    body = {"Document": seeded("document", 1), "FileName": "a.pdf", "Attachment": "dGVzdA=="}
    response = exact.post("documents/DocumentAttachments", body)
    assert response.status_code == 500
    assert response.get_json()["error"]["message"]["value"] == "Invalid reference: Document"


def test_document_links_to_a_sales_entry(exact):
    document = _document(exact)
    lines = [{"GLAccount": seeded("glaccount", "700000"), "AmountFC": 10}]
    body = {"Journal": "70", "Customer": seeded("account", 1), "SalesEntryLines": lines}
    made = exact.created("salesentry/SalesEntries", {**body, "Document": document["ID"]})
    assert made["Document"] == document["ID"]
