"""Schemas declared as a list of properties, for the many flat records the service reads and
writes.

An upstream record is mostly scalars that may be null: Exact's ``SalesEntries`` has twenty,
Teamleader's address five. Declaring each as ``Name = nullable(Str)`` says the same thing
twenty times; ``@properties("EntryID! EntryNumber:Int YourRef …", KINDS)`` says it once, in
the order Exact's ``$select`` needs, and the class body keeps what is not a plain scalar
(nested records, renamed keys, enums, hooks).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from marshmallow import Schema, fields

from collector.core.fields import nullable as nullable_field

Kinds = Mapping[str, Callable[..., fields.Field]]


def properties(
    spec: str, kinds: Kinds, *, nullable: bool = True
) -> Callable[[type[Schema]], type[Schema]]:
    """A class decorator giving a schema the properties ``spec`` lists, ahead of the fields
    its body declares.

    ``spec`` is white-space separated ``Name`` or ``Name:Kind``, in order: a string, or a
    ``kinds[Kind]`` field. A property loads null or absent as None, unless ``!`` ends it
    (``ID!``, ``Code:Int!``): then it is required and may not be null. With ``nullable``
    False the fields are plain, as an output schema that only dumps wants them.
    """
    listed: dict[str, fields.Field] = {}
    for entry in spec.split():
        name, _, kind = entry.removesuffix("!").partition(":")
        make = kinds[kind] if kind else fields.String
        if entry.endswith("!"):
            listed[name] = make(required=True)
        else:
            listed[name] = nullable_field(make) if nullable else make()

    def declare(schema: type[Schema]) -> type[Schema]:
        # The listed fields come from a second base, which marshmallow reads before the class
        # itself: they stand first, in the order given.
        names = {
            "__doc__": schema.__doc__,
            "__module__": schema.__module__,
            "__qualname__": schema.__qualname__,
        }
        return type(schema)(schema.__name__, (schema, Schema.from_dict(listed)), names)

    return declare
