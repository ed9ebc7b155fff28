"""The forms of the Teamleader integration: its settings and an import."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
)
from wtforms.validators import InputRequired, NumberRange, Optional

from collector.runtime.forms import NONE, MultiCheckboxField
from collector.teamleader.connection import active_payment_methods


class TeamleaderSettingsForm(FlaskForm):
    import_department_ids = MultiCheckboxField(_l("Company entities (departments) to import"))
    default_profile_id = SelectField(_l("Default profile for new customers"))
    auto_import = BooleanField(_l("Import invoices and update customers automatically"))
    hold_mail_after_days = IntegerField(
        _l("Hold the mail of imported invoices dated more than this many days ago"),
        validators=[Optional(), NumberRange(min=0, max=365)],
        default=14,
    )
    invoice_profile_field_id = SelectField(_l("Custom field (invoice context) with the profile"))
    subscription_profile_field_id = SelectField(
        _l("Custom field (subscription context) with the profile")
    )
    strict_mode_confirmed = BooleanField(
        _l("Strict mode is on in Teamleader (“booked invoices can't be edited”)")
    )
    payment_method_id = SelectField(_l("Payment method of the payments written to Teamleader"))

    def offer(self, connection, profiles) -> None:
        """The choices, as read from Teamleader and from our profiles."""
        self.import_department_ids.choices = [
            (d["id"], d["name"]) for d in connection.departments or []
        ]
        self.default_profile_id.choices = [(NONE, _("— none —"))] + [
            (str(p.id), p.name) for p in profiles
        ]
        for field, context in (
            (self.invoice_profile_field_id, "invoice"),
            (self.subscription_profile_field_id, "subscription"),
        ):
            field.choices = [(NONE, _("— not used —"))] + [
                (f["id"], f["label"]) for f in connection.custom_fields_for(context)
            ]
        self.payment_method_id.choices = [(NONE, _("— none —"))] + [
            (m["id"], m["name"]) for m in active_payment_methods(connection)
        ]

    def load(self, connection) -> None:
        self.import_department_ids.data = list(connection.import_department_ids or [])
        self.default_profile_id.data = str(connection.default_profile_id or NONE)
        self.auto_import.data = connection.auto_import
        self.hold_mail_after_days.data = connection.hold_mail_after_days
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
            "hold_mail_after_days": self.hold_mail_after_days.data,
            "invoice_profile_field_id": self.invoice_profile_field_id.data or None,
            "subscription_profile_field_id": self.subscription_profile_field_id.data or None,
            "strict_mode_confirmed": self.strict_mode_confirmed.data,
            "payment_method_id": self.payment_method_id.data or None,
        }


class ImportForm(FlaskForm):
    # InputRequired, not DataRequired: an unreadable date should say so, not "required".
    date_from = DateField(_l("From (invoice date)"), validators=[InputRequired()])
    date_to = DateField(_l("To, included"), validators=[InputRequired()])
    mail_old_documents = BooleanField(
        _l("Also mail the overdue and older invoices (otherwise they are held for you)")
    )
    # "preview": count what the import would mail; "start": the person saw it and starts.
    step = HiddenField(default="preview")

    def to_data(self) -> dict:
        return {
            "date_from": self.date_from.data,
            "date_to": self.date_to.data,
            "mail_old_documents": bool(self.mail_old_documents.data),
        }
