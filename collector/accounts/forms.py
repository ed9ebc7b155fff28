"""The forms of logging in and of the company settings."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Length, Optional

from collector.accounts.creditor import grouped
from collector.accounts.models.creditor import PAIN_VERSIONS
from collector.core import clock
from collector.runtime.forms import strip_text


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class CreditorForm(FlaskForm):
    """The creditor's name, account and direct-debit settings; the service checks them."""

    name = StringField("Name (beneficiary)", validators=[Length(max=140)], filters=[strip_text])
    iban = StringField("IBAN", validators=[Length(max=64)], filters=[strip_text])
    bic = StringField("BIC", validators=[Length(max=32)], filters=[strip_text])
    creditor_identifier = StringField(
        "SEPA creditor identifier", validators=[Length(max=64)], filters=[strip_text]
    )
    prenotification_days = IntegerField(
        "Days of pre-notification", validators=[Optional()], default=14
    )
    pain_version = SelectField("pain.008 version your bank takes", choices=list(PAIN_VERSIONS))

    def load(self, creditor) -> None:
        self.name.data = creditor.name
        self.iban.data = grouped(creditor.iban or "")
        self.bic.data = creditor.bic or ""
        self.creditor_identifier.data = creditor.creditor_identifier or ""
        self.prenotification_days.data = creditor.prenotification_days
        self.pain_version.data = creditor.pain_version

    def to_data(self) -> dict:
        return {
            "name": self.name.data or "",
            "iban": self.iban.data or "",
            "bic": self.bic.data or "",
            "creditor_identifier": self.creditor_identifier.data or "",
            "prenotification_days": self.prenotification_days.data,
            "pain_version": self.pain_version.data,
        }


class CompanyForm(FlaskForm):
    """The company's time zone; the service checks the name."""

    time_zone = SelectField("Time zone", choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.time_zone.choices = [(name, name) for name in clock.zone_names()]

    def load(self, company) -> None:
        self.time_zone.data = company.time_zone

    def to_data(self) -> dict:
        return {"name": self.time_zone.data or ""}
