"""The document page's forms: mark paid, archive, keep or refund an overpayment."""

from __future__ import annotations

from datetime import UTC, datetime, time

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    StringField,
)
from wtforms.validators import Optional

from collector.runtime.forms import strip_text


class ArchiveForm(FlaskForm):
    """Close a document, with the reason kept on its history."""

    # No "required" validator: the service owns the rule, so the API gives the same message.
    reason = StringField(_l("Reason"), filters=[strip_text])

    def to_data(self) -> dict:
        return {"reason": self.reason.data or ""}


class KeepOverpaymentForm(ArchiveForm):
    """Keep money paid beyond what was due, with the reason kept on the history."""


class RefundOverpaymentForm(FlaskForm):
    """Give the overpayment back through the payment provider: just the CSRF token."""

    def to_data(self) -> dict:
        return {}


class MarkPaidForm(ArchiveForm):
    paid_at = DateField(_l("Paid on (empty: today)"), validators=[Optional()])

    def to_data(self) -> dict:
        day = self.paid_at.data
        # Noon UTC is the same day in every European time zone, and the day is what
        # Teamleader is told.
        paid_at = datetime.combine(day, time(12), UTC) if day else None
        return {**super().to_data(), "paid_at": paid_at}
