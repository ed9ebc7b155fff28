"""The forms of payment profiles and customers."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Length

from collector.runtime.forms import NONE, strip_text


class ProfileForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    allow_direct_debit = BooleanField(_l("SEPA direct debit (signed mandate)"))
    allow_b2b_mandates = BooleanField(_l("…and customers may sign a B2B mandate online"))
    allow_payment_link = BooleanField(_l("Pay online (payment link)"))
    allow_bank_transfer = BooleanField(_l("Bank transfer with structured reference"))
    send_invitation_on_import = BooleanField(
        _l("Send the invitation when the document is imported")
    )
    invitation_requires_pdf = BooleanField(_l("…but only once the PDF is available"))

    def to_data(self) -> dict:
        """The parsed values, named as the profiles service expects them."""
        return {name: self[name].data for name in self._fields if name != "csrf_token"}

    def load(self, profile) -> None:
        for name in self._fields:
            if name != "csrf_token":
                self[name].data = getattr(profile, name)


class CustomerForm(FlaskForm):
    """What an admin may change on a customer; the rest comes from Teamleader."""

    profile_id = SelectField(_l("Payment profile"))
    customer_number = StringField(
        _l("Customer number"), validators=[DataRequired(), Length(max=64)], filters=[strip_text]
    )

    def offer(self, profiles) -> None:
        self.profile_id.choices = [(NONE, _("— none —"))] + [(str(p.id), p.name) for p in profiles]

    def load(self, customer) -> None:
        self.profile_id.data = str(customer.profile_id or NONE)
        self.customer_number.data = customer.customer_number

    def to_data(self) -> dict:
        profile = self.profile_id.data
        return {
            "profile_id": int(profile) if profile else None,
            "customer_number": self.customer_number.data,
        }
