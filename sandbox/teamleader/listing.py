"""Filters, sorting, pagination and includes shared by the ``.list`` methods.

Reference §3: ``filter: {...}``, ``page: {size, number}`` (default 20 / 1), ``sort:
[{field, order}]``, ``includes`` as a comma-separated string. Unknown keys are silently
ignored by Teamleader (MCore CHANGELOG v1.2.3), so we ignore unknown filter keys too, but
a known key with a value of the wrong type or outside its enum is a 400.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from . import errors

# The maximum page size is undocumented (reference §3 [?]); third-party SDKs assume 100
# (MCore TeamleaderConstants MAX_PAGE_SIZE), so we refuse anything larger with a 400.
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


@dataclass(frozen=True)
class Filter:
    """How to read one filter value and test a record against it."""

    parse: Callable[[object, str], object]
    test: Callable[[dict, object], bool]


def apply_filters(records: Iterable[dict], body: dict, spec: dict[str, Filter]) -> list[dict]:
    """Records matching every known filter in ``body["filter"]``."""
    raw = body.get("filter")
    if raw is None:
        return list(records)
    raw = errors.as_object(raw, "filter")
    tests = []
    for key, value in raw.items():
        if key in spec and value is not None:
            tests.append((spec[key].test, spec[key].parse(value, f"filter.{key}")))
    return [r for r in records if all(test(r, arg) for test, arg in tests)]


def paginate(records: list[dict], body: dict) -> list[dict]:
    """One page; size above ``MAX_PAGE_SIZE`` is refused (see above)."""
    page = body.get("page")
    size, number = DEFAULT_PAGE_SIZE, 1
    if page is not None:
        page = errors.as_object(page, "page")
        if page.get("size") is not None:
            size = errors.as_int(page["size"], "page.size")
        if page.get("number") is not None:
            number = errors.as_int(page["number"], "page.number")
    if size > MAX_PAGE_SIZE:
        raise errors.invalid("page.size", f"page.size must not be greater than {MAX_PAGE_SIZE}")
    start = (number - 1) * size
    return records[start : start + size]


def sort(
    records: list[dict],
    body: dict,
    fields: dict[str, Callable[[dict], object]],
    default: list[tuple[str, str]],
    default_order: str = "asc",
) -> list[dict]:
    """Sort by ``body["sort"]`` (or ``default``); ``null`` values sort last; ties by id."""
    spec = default
    if body.get("sort") is not None:
        spec = _parse_sort(body["sort"], fields, default_order)
    ordered = sorted(records, key=lambda r: r["id"])
    for field, order in reversed(spec):
        key = fields[field]
        present = [r for r in ordered if key(r) is not None]
        missing = [r for r in ordered if key(r) is None]
        ordered = sorted(present, key=key, reverse=order == "desc") + missing
    return ordered


def _parse_sort(value: object, fields: dict, default_order: str) -> list[tuple[str, str]]:
    if not isinstance(value, list):
        raise errors.invalid("sort", "sort must be an array of {field, order}")
    spec = []
    for index, item in enumerate(value):
        item = errors.as_object(item, f"sort.{index}")
        field = errors.as_enum(item.get("field"), f"sort.{index}.field", tuple(fields))
        order = item.get("order", default_order)
        spec.append((field, errors.as_enum(order, f"sort.{index}.order", ("asc", "desc"))))
    return spec


def includes(body: dict) -> set[str]:
    """The comma-separated ``includes`` string as a set."""
    value = body.get("includes")
    if value is None:
        return set()
    if not isinstance(value, str):
        raise errors.invalid("includes", "includes must be a comma-separated string")
    return {part.strip() for part in value.split(",") if part.strip()}


# Filter building blocks -------------------------------------------------------------


def ids_filter() -> Filter:
    """``ids: [...]`` batch fetch."""
    return Filter(lambda v, f: set(errors.as_string_list(v, f)), lambda r, ids: r["id"] in ids)


def link_filter(key: str) -> Filter:
    """``<key>_id``: the record's ``{type, id}`` link under ``key`` has this id."""
    return Filter(errors.as_string, lambda r, v: (r.get(key) or {}).get("id") == v)


def equals_filter(key: str) -> Filter:
    """Exact match on a top-level string field."""
    return Filter(errors.as_string, lambda r, v: r.get(key) == v)


def updated_since_filter() -> Filter:
    """``updated_since``: inclusive (undocumented [?]; inclusive never misses a change)."""
    return Filter(errors.as_datetime, lambda r, v: r["updated_at"] >= v)


def customer_filter(path: Callable[[dict], dict | None]) -> Filter:
    """``customer: {type, id}`` against the record's customer link."""

    def parse(value: object, field: str) -> dict:
        return errors.as_reference(value, field, ("contact", "company"))

    return Filter(parse, lambda r, v: (path(r) or {}) == {"type": v["type"], "id": v["id"]})


def date_filter(key: str, compare: Callable[[object, object], bool]) -> Filter:
    """A date bound; records without that date never match."""
    return Filter(errors.as_date, lambda r, v: r.get(key) is not None and compare(r[key], v))
