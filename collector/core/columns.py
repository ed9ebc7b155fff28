"""Column types shared by the models (aware UTC datetimes, money, string enums), and
what the outbox tables share."""

from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import declared_attr

from collector.core import clock
from collector.core.money import CENT, cents  # noqa: F401  (CENT re-exported)


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC: the one clock (``core.clock.now``)."""
    return clock.now()


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware.

    PostgreSQL keeps the offset (``timestamptz``); SQLite drops it, so values are
    normalised to UTC on the way in and tagged as UTC on the way out. Naive
    datetimes are refused: their meaning depends on the machine that made them.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Money(sa.types.TypeDecorator):
    """An amount in whole cents: NUMERIC(14, 2) in, ``Decimal`` out.

    Floats and fractions of a cent are refused, never rounded here: whoever computed
    one must round it on purpose (``core.money.round_cents``). PostgreSQL stores the
    value exactly. SQLite (the demo database) keeps numerics as doubles; 14
    significant digits survive that, and the value is read back to the nearest cent
    so callers always see an exact ``Decimal``.
    """

    impl = sa.Numeric(14, 2, asdecimal=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return cents(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return Decimal(str(value)).quantize(CENT)


def enum_type(enum_cls) -> sa.Enum:
    """A string enum stored by value in a VARCHAR with a CHECK constraint.

    ``native_enum=False`` keeps PostgreSQL and SQLite alike and makes adding a
    value a plain migration instead of an ``ALTER TYPE``.
    """
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [m.value for m in members],
    )


class OutboxRow:
    """What the outbox tables share (``callback_delivery``, ``teamleader_sync``): a row is
    tried from ``next_attempt_at`` (None: at once) and held by one worker until
    ``lease_until``; the sweep finds the open ones by their (status, next attempt)."""

    @declared_attr.directive
    def __table_args__(cls) -> tuple:
        return (sa.Index(f"ix_{cls.__tablename__}_status_next", "status", "next_attempt_at"),)

    @classmethod
    def attempt_due(cls, now: datetime):
        """The condition "its next attempt may be made at ``now``"."""
        return sa.or_(cls.next_attempt_at.is_(None), cls.next_attempt_at <= now)

    @classmethod
    def unleased(cls, now: datetime):
        """The condition "no live worker holds it at ``now``"."""
        return sa.or_(cls.lease_until.is_(None), cls.lease_until < now)
