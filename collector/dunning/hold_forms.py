"""The forms of holds and notes. They parse and carry the CSRF token; the rules (a
reason, a why, a promise's day) live in ``holds`` and ``notes``."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from collector.dunning import wording
from collector.runtime.forms import strip_text


class HoldForm(FlaskForm):
    """Pause chasing and debiting, with a reason and why."""

    reason = SelectField(_l("Reason"), choices=[])
    until = DateField(_l("Promised to pay by (a promise to pay only)"), validators=[Optional()])
    note = StringField(_l("Why"), filters=[strip_text])

    def __init__(self, *args, **kwargs):
        # Prefixed: the document page has other "reason" and "note" fields.
        super().__init__(*args, prefix="hold", **kwargs)
        self.reason.choices = [(r.value, _l(msgid)) for r, msgid in wording.REASONS.items()]

    def to_data(self) -> dict:
        return {"reason": self.reason.data or "", "until": self.until.data, "note": self.note.data}


class LiftForm(FlaskForm):
    """Lift a hold; a note is optional."""

    note = StringField(_l("Why (optional)"), filters=[strip_text])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="lift", **kwargs)

    def to_data(self) -> dict:
        return {"note": self.note.data or ""}


class NoteForm(FlaskForm):
    """A note on a document or a customer."""

    text = TextAreaField(_l("Note"), filters=[strip_text])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="note", **kwargs)

    def to_data(self) -> dict:
        return {"text": self.text.data or ""}
