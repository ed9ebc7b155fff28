"""A record read off an object: the fields of a dataclass filled from the object's
attributes of the same names, as a page's view of a row."""

from __future__ import annotations

import dataclasses
from typing import TypeVar

T = TypeVar("T")


def from_attributes(cls: type[T], source: object, **given) -> T:
    """A ``cls`` (a dataclass) whose fields are ``source``'s attributes of the same names,
    but for those ``given`` (what pydantic's ``from_attributes`` does for its models)."""
    read = {f.name: getattr(source, f.name) for f in dataclasses.fields(cls) if f.name not in given}
    return cls(**read, **given)
