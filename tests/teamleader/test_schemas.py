"""Record shapes for payloads the recorded fixtures do not cover: nulls, offsets, old formats."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from marshmallow import ValidationError

from collector.core.http import decode_json
from collector.teamleader.schemas import CustomFieldDefinitionSchema, InvoiceSchema

DRAFT = b"""{
  "id": "inv-1", "department": {"type": "department", "id": "dep-1"},
  "invoice_number": null, "invoice_date": null, "due_on": null, "status": "draft",
  "paid": false, "paid_at": null, "sent": false, "payment_reference": null,
  "invoicee": {"name": "Acme", "vat_number": null,
               "customer": {"type": "company", "id": "co-1"}, "for_attention_of": null},
  "total": {"tax_exclusive": {"amount": 100, "currency": "EUR"},
            "tax_inclusive": {"amount": 121.00, "currency": "EUR"},
            "payable": {"amount": 121.00, "currency": "EUR"},
            "due": {"amount": 0.1, "currency": "EUR"}, "taxes": null},
  "custom_fields": [{"definition": {"type": "customFieldDefinition", "id": "cf-1"},
                     "value": 12.50},
                    {"definition": {"type": "customFieldDefinition", "id": "cf-2"},
                     "value": null}],
  "grouped_lines": [{"section": {"title": null}, "line_items": []}],
  "updated_at": "2024-03-31T02:30:00+02:00",
  "some_new_field": {"added": "without a new API version"}
}"""


def test_a_draft_with_nulls_loads():
    invoice = InvoiceSchema().load(decode_json(DRAFT))

    assert invoice["invoice_number"] is None and invoice["invoice_date"] is None
    assert invoice["customer_type"] == "company" and invoice["customer_id"] == "co-1"
    assert invoice["total"]["taxes"] == []
    assert invoice["total"]["due"] == Decimal("0.1")  # never 0.1000000000000000055…
    assert invoice["total"]["tax_exclusive"] == Decimal("100")
    assert invoice["custom_fields"][0]["value"] == Decimal("12.50")
    assert invoice["custom_fields"][1]["value"] is None
    assert invoice["grouped_lines"][0]["section_title"] is None
    assert invoice["updated_at"] == datetime(2024, 3, 31, 0, 30, tzinfo=UTC)
    assert invoice["updated_at"].tzinfo is UTC
    assert "some_new_field" not in invoice


def test_money_from_a_float_is_refused():
    data = decode_json(DRAFT)
    data["total"]["payable"]["amount"] = 121.0  # json.loads without parse_float=Decimal

    with pytest.raises(ValidationError) as refused:
        InvoiceSchema().load(data)
    assert refused.value.messages == {"total": {"payable": ["Not a valid Money object."]}}


def test_a_record_without_id_is_refused():
    data = decode_json(DRAFT)
    del data["id"]

    with pytest.raises(ValidationError) as refused:
        InvoiceSchema().load(data)
    assert refused.value.messages == {"id": ["Missing data for required field."]}


def test_custom_field_options_old_and_new_formats():
    definition = {
        "id": "cf-1",
        "context": "invoice",
        "type": "single_select",
        "label": "Profile",
        "configuration": {"options": ["SEPA", {"id": "o-2", "value": "Card"}]},
    }

    loaded = CustomFieldDefinitionSchema().load(definition)

    assert loaded["options"] == [{"id": None, "value": "SEPA"}, {"id": "o-2", "value": "Card"}]
