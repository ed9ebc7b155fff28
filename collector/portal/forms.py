"""The portal's forms; each carries the CSRF token (the portal is public, its forms
change things). The rules live in ``said`` and ``payments.several``."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, TextAreaField
from wtforms.validators import Optional

from collector.runtime.forms import strip_text


class PayForm(FlaskForm):
    """Pay the ticked invoices (``invoice`` ids, read from the form as a list)."""


class PaidForm(FlaskForm):
    """I have paid: on which day, and a note."""

    paid_on = DateField(_l("Paid on"), validators=[Optional()])
    note = TextAreaField(_l("Note (optional)"), filters=[strip_text])


class DisputeForm(FlaskForm):
    """I dispute this: why."""

    reason = TextAreaField(_l("Why do you dispute this invoice?"), filters=[strip_text])
