"""The forms of logging in, of passwords, users and API keys, and of the company settings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from collector.accounts import creditor_details, languages
from collector.accounts.creditor import grouped
from collector.accounts.models.api_key import READ, WRITE_IMPORTS, WRITE_PAYMENTS, WRITE_PROFILES
from collector.accounts.models.creditor import PAIN_VERSIONS
from collector.core import clock
from collector.runtime.forms import MultiCheckboxField, strip_text


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])


class NewPasswordForm(FlaskForm):
    """A new password, typed twice; the service checks its length."""

    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    repeat = PasswordField(
        _l("New password, once more"), validators=[DataRequired(), Length(max=200)]
    )

    def to_data(self) -> dict:
        return {"password": self.password.data or "", "repeated": self.repeat.data or ""}


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)])

    def to_data(self) -> dict:
        return {"current": self.current.data or "", **super().to_data()}


def role_choices() -> list[SelectChoice]:
    return [
        SelectChoice("viewer", _l("Viewer: looks, changes nothing")),
        SelectChoice("admin", _l("Admin: changes anything")),
    ]


class InviteForm(FlaskForm):
    """A new user: their email, role and the language of their invitation."""

    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    role = SelectField(_l("Role"), choices=role_choices, default="viewer")
    locale = SelectField(_l("Language of the invitation"), choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locale.choices = [SelectChoice(tag, name) for tag, name in languages.LOCALES.items()]

    def to_data(self) -> dict:
        return {
            "email": self.email.data or "",
            "role": self.role.data or "",
            "locale": self.locale.data or "",
        }


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=role_choices)

    def to_data(self) -> dict:
        return {"role": self.role.data or ""}


class CreditorForm(FlaskForm):
    """The creditor's name, account and direct-debit settings; the service checks them."""

    name = StringField(_l("Name (beneficiary)"), validators=[Length(max=140)], filters=[strip_text])
    iban = StringField(_l("IBAN"), validators=[Length(max=64)], filters=[strip_text])
    bic = StringField(_l("BIC"), validators=[Length(max=32)], filters=[strip_text])
    creditor_identifier = StringField(
        _l("SEPA creditor identifier"), validators=[Length(max=64)], filters=[strip_text]
    )
    prenotification_days = IntegerField(
        _l("Days of pre-notification"), validators=[Optional()], default=14
    )
    pain_version = SelectField(
        _l("%(format)s version your bank takes", format="pain.008"),
        choices=[SelectChoice(version) for version in PAIN_VERSIONS],
    )
    address = TextAreaField(
        _l("Address"),
        validators=[Length(max=creditor_details.MAX_ADDRESS + 20)],
        filters=[strip_text],
        render_kw={"rows": 3},
    )
    contact_email = StringField(
        _l("Contact email for customers"), validators=[Length(max=254)], filters=[strip_text]
    )
    contact_phone = StringField(
        _l("Contact phone for customers"), validators=[Length(max=64)], filters=[strip_text]
    )
    sender_name = StringField(
        _l("Sender's name of the mails"), validators=[Length(max=140)], filters=[strip_text]
    )
    sender_email = StringField(
        _l("Sender's address of the mails"), validators=[Length(max=254)], filters=[strip_text]
    )

    def load(self, creditor) -> None:
        self.name.data = creditor.name
        self.iban.data = grouped(creditor.iban or "")
        self.bic.data = creditor.bic or ""
        self.creditor_identifier.data = creditor.creditor_identifier or ""
        self.prenotification_days.data = creditor.prenotification_days
        self.pain_version.data = creditor.pain_version
        for name in creditor_details.FIELDS:
            self[name].data = getattr(creditor, name) or ""

    def to_data(self) -> dict:
        return {
            "name": self.name.data or "",
            "iban": self.iban.data or "",
            "bic": self.bic.data or "",
            "creditor_identifier": self.creditor_identifier.data or "",
            "prenotification_days": self.prenotification_days.data,
            "pain_version": self.pain_version.data,
            **{name: self[name].data or "" for name in creditor_details.FIELDS},
        }


class LogoForm(FlaskForm):
    """A creditor's logo: a PNG or JPEG; the service checks the file itself."""

    logo = FileField(_l("Logo"), validators=[FileRequired(_l("Choose an image to upload."))])


class CompanyForm(FlaskForm):
    """The company's time zone; the service checks the name."""

    time_zone = SelectField(_l("Time zone"), choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.time_zone.choices = [SelectChoice(name) for name in clock.zone_names()]

    def load(self, company) -> None:
        self.time_zone.data = company.time_zone

    def to_data(self) -> dict:
        return {"name": self.time_zone.data or ""}


class ApiKeyForm(FlaskForm):
    """A new API key: its name, what it may do and, optionally, its last day."""

    name = StringField(
        _l("Name (who or what uses it)"), validators=[Length(max=100)], filters=[strip_text]
    )
    scopes = MultiCheckboxField(_l("What the key may do"), choices=[])
    expires_on = DateField(_l("Last day it works (empty: until revoked)"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.scopes.choices = [SelectChoice(s, str(label)) for s, label in SCOPE_LABELS.items()]
        if self.scopes.data is None:  # a blank form: reading only, to start from the least
            self.scopes.data = [READ]

    def to_data(self) -> dict:
        return {
            "name": self.name.data or "",
            "scopes": list(self.scopes.data or []),
            "expires_on": self.expires_on.data,
        }


SCOPE_LABELS = {
    READ: _l("Read: documents, payments, customers, profiles and imports"),
    WRITE_PAYMENTS: _l("Mark documents paid and archive them"),
    WRITE_IMPORTS: _l("Start and resume imports from Teamleader"),
    WRITE_PROFILES: _l("Create payment profiles"),
}
