"""The company's own settings that are not about any one creditor: its time zone.

One row. Business dates (due dates passing, collection days, reminders) are this zone's
local dates; storage stays UTC.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from collector.core.clock import DEFAULT_ZONE
from collector.core.columns import UTCDateTime, utcnow
from collector.extensions import db


class Company(db.Model):
    # An IANA name (Europe/Brussels). Taken from Teamleader's users.me on connect until
    # a person chooses one here; after that Teamleader's no longer overrides it.
    time_zone: Mapped[str] = mapped_column(sa.String(64), default=DEFAULT_ZONE)
    time_zone_chosen: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<Company {self.time_zone}>"
