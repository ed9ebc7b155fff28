"""WTForms forms: they parse and carry the CSRF token; business rules live in services."""

from datetime import UTC, datetime, time

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from collector.core import clock
from collector.models.creditor import PAIN_VERSIONS
from collector.services.creditor import grouped
from collector.services.teamleader_connection import active_payment_methods


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as checkboxes."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class ConfirmForm(FlaskForm):
    """A button that changes something: just the CSRF token."""


def _parse_days(text: str) -> list[int]:
    parts = [p.strip() for p in (text or "").replace(";", ",").split(",")]
    try:
        return [int(p) for p in parts if p]
    except ValueError as exc:
        raise ValidationError("Days as whole numbers separated by commas, e.g. 7, 21.") from exc


class ProfileForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=100)])
    allow_direct_debit = BooleanField("SEPA direct debit (signed mandate)")
    allow_payment_link = BooleanField("Pay online (payment link)")
    allow_bank_transfer = BooleanField("Bank transfer with structured reference")
    send_invitation_on_import = BooleanField("Send the invitation when the document is imported")
    invitation_requires_pdf = BooleanField("…but only once the PDF is available")
    reminder_days = StringField("Reminders, days after the due date", validators=[Length(max=100)])

    def validate_reminder_days(self, field):
        _parse_days(field.data)

    def to_data(self) -> dict:
        """The parsed values, named as the profiles service expects them."""
        data = {name: self[name].data for name in self._fields if name != "csrf_token"}
        data["reminder_days"] = _parse_days(self.reminder_days.data)
        return data

    def load(self, profile) -> None:
        for name in self._fields:
            if name not in ("csrf_token", "reminder_days"):
                self[name].data = getattr(profile, name)
        self.reminder_days.data = ", ".join(str(d) for d in profile.reminder_days or [])


NONE = ""


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class TeamleaderSettingsForm(FlaskForm):
    import_department_ids = MultiCheckboxField("Company entities (departments) to import")
    default_profile_id = SelectField("Default profile for new customers")
    auto_import = BooleanField("Import invoices and update customers automatically")
    invoice_profile_field_id = SelectField("Custom field (invoice context) with the profile")
    subscription_profile_field_id = SelectField(
        "Custom field (subscription context) with the profile"
    )
    strict_mode_confirmed = BooleanField(
        "Strict mode is on in Teamleader (“booked invoices can't be edited”)"
    )
    payment_method_id = SelectField("Payment method of the payments written to Teamleader")

    def offer(self, connection, profiles) -> None:
        """The choices, as read from Teamleader and from our profiles."""
        self.import_department_ids.choices = [
            (d["id"], d["name"]) for d in connection.departments or []
        ]
        self.default_profile_id.choices = [(NONE, "— none —")] + [
            (str(p.id), p.name) for p in profiles
        ]
        for field, context in (
            (self.invoice_profile_field_id, "invoice"),
            (self.subscription_profile_field_id, "subscription"),
        ):
            field.choices = [(NONE, "— not used —")] + [
                (f["id"], f["label"]) for f in connection.custom_fields_for(context)
            ]
        self.payment_method_id.choices = [(NONE, "— none —")] + [
            (m["id"], m["name"]) for m in active_payment_methods(connection)
        ]

    def load(self, connection) -> None:
        self.import_department_ids.data = list(connection.import_department_ids or [])
        self.default_profile_id.data = str(connection.default_profile_id or NONE)
        self.auto_import.data = connection.auto_import
        self.invoice_profile_field_id.data = connection.invoice_profile_field_id or NONE
        self.subscription_profile_field_id.data = connection.subscription_profile_field_id or NONE
        self.strict_mode_confirmed.data = connection.strict_mode_confirmed
        self.payment_method_id.data = connection.payment_method_id or NONE

    def to_data(self) -> dict:
        profile = self.default_profile_id.data
        return {
            "import_department_ids": list(self.import_department_ids.data or []),
            "default_profile_id": int(profile) if profile else None,
            "auto_import": self.auto_import.data,
            "invoice_profile_field_id": self.invoice_profile_field_id.data or None,
            "subscription_profile_field_id": self.subscription_profile_field_id.data or None,
            "strict_mode_confirmed": self.strict_mode_confirmed.data,
            "payment_method_id": self.payment_method_id.data or None,
        }


class CustomerForm(FlaskForm):
    """What an admin may change on a customer; the rest comes from Teamleader."""

    profile_id = SelectField("Payment profile")
    customer_number = StringField(
        "Customer number", validators=[DataRequired(), Length(max=64)], filters=[_strip]
    )

    def offer(self, profiles) -> None:
        self.profile_id.choices = [(NONE, "— none —")] + [(str(p.id), p.name) for p in profiles]

    def load(self, customer) -> None:
        self.profile_id.data = str(customer.profile_id or NONE)
        self.customer_number.data = customer.customer_number

    def to_data(self) -> dict:
        profile = self.profile_id.data
        return {
            "profile_id": int(profile) if profile else None,
            "customer_number": self.customer_number.data,
        }


class ImportForm(FlaskForm):
    # InputRequired, not DataRequired: an unreadable date should say so, not "required".
    date_from = DateField("From (invoice date)", validators=[InputRequired()])
    date_to = DateField("To, included", validators=[InputRequired()])

    def to_data(self) -> dict:
        return {"date_from": self.date_from.data, "date_to": self.date_to.data}


class CreditorForm(FlaskForm):
    """The creditor's name, account and direct-debit settings; the service checks them."""

    name = StringField("Name (beneficiary)", validators=[Length(max=140)], filters=[_strip])
    iban = StringField("IBAN", validators=[Length(max=64)], filters=[_strip])
    bic = StringField("BIC", validators=[Length(max=32)], filters=[_strip])
    creditor_identifier = StringField(
        "SEPA creditor identifier", validators=[Length(max=64)], filters=[_strip]
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


class ArchiveForm(FlaskForm):
    """Close a document, with the reason kept on its history."""

    # No "required" validator: the service owns the rule, so the API gives the same message.
    reason = StringField("Reason", filters=[_strip])

    def to_data(self) -> dict:
        return {"reason": self.reason.data or ""}


class KeepOverpaymentForm(ArchiveForm):
    """Keep money paid beyond what was due, with the reason kept on the history."""


class RefundOverpaymentForm(FlaskForm):
    """Give the overpayment back through the payment provider: just the CSRF token."""

    def to_data(self) -> dict:
        return {}


class MarkPaidForm(ArchiveForm):
    paid_at = DateField("Paid on (empty: today)", validators=[Optional()])

    def to_data(self) -> dict:
        day = self.paid_at.data
        # Noon UTC is the same day in every European time zone, and the day is what
        # Teamleader is told.
        paid_at = datetime.combine(day, time(12), UTC) if day else None
        return {**super().to_data(), "paid_at": paid_at}
