"""The mail domain's form: one mail text the team edits."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from collector.dunning.models.texts import MAX_BODY, MAX_SUBJECT


class MailTextForm(FlaskForm):
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=MAX_SUBJECT)])
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=MAX_BODY)])

    def to_data(self) -> dict:
        return {"subject": self.subject.data or "", "body": self.body.data or ""}
