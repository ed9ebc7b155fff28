"""Schemas declared as a list of properties (``collector.core.records``)."""

from __future__ import annotations

import pytest
from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load

from collector.core.records import properties

KINDS = {"Int": fields.Integer, "Bool": fields.Boolean}


class Base(Schema):
    class Meta:
        unknown = EXCLUDE


@properties("ID! Code:Int! Name Count:Int Open:Bool", KINDS)
class ThingSchema(Base):
    """A thing."""

    Lines = fields.List(fields.Integer(), load_default=list)

    @pre_load
    def _upper(self, data, **kwargs):
        return {**data, "Name": data.get("Name") and data["Name"].upper()}


def test_listed_properties_stand_first_in_order_then_the_body():
    assert list(ThingSchema().fields) == ["ID", "Code", "Name", "Count", "Open", "Lines"]
    assert ThingSchema.__name__ == "ThingSchema"
    assert ThingSchema.__doc__ == "A thing."
    assert ThingSchema.__module__ == __name__


def test_plain_properties_load_null_or_absent_as_none_and_hooks_still_run():
    loaded = ThingSchema().load({"ID": "t-1", "Code": 7, "Name": "box", "Open": None, "x": 1})

    assert loaded == {
        "ID": "t-1",
        "Code": 7,
        "Name": "BOX",
        "Count": None,
        "Open": None,
        "Lines": [],
    }


@pytest.mark.parametrize("data", [{"Code": 7}, {"ID": None, "Code": 7}, {"ID": "t", "Code": "x"}])
def test_required_properties_are_required_and_typed(data):
    with pytest.raises(ValidationError):
        ThingSchema().load(data)


def test_an_output_schema_gets_plain_fields():
    @properties("id:Int name", KINDS, nullable=False)
    class OutSchema(Schema):
        """Dumped only."""

    field = OutSchema().fields["name"]
    assert (field.allow_none, field.required) == (False, False)
    assert OutSchema().dump({"id": 3, "name": "n"}) == {"id": 3, "name": "n"}
