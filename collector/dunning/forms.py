"""The dunning domain's form: a profile's steps, one row per step."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, FormField, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional

from collector.dunning.models import StepKind
from collector.dunning.schedule import MAX_DAYS

REMOVE = ""
BLANK_ROWS = 2  # room to add steps


class StepRow(FlaskForm):
    class Meta:
        csrf = False  # the enclosing form carries the token

    kind = SelectField(
        _l("Step"),
        choices=[
            SelectChoice(REMOVE, _l("— no step —")),
            SelectChoice(StepKind.REMINDER.value, _l("Reminder")),
            SelectChoice(StepKind.FINAL_NOTICE.value, _l("Final notice")),
            SelectChoice(StepKind.HAND_OFF.value, _l("Hand-off (no mail)")),
        ],
    )
    days = IntegerField(
        _l("Days after the due date"), validators=[Optional(), NumberRange(1, MAX_DAYS)]
    )


class StepsForm(FlaskForm):
    steps = FieldList(FormField(StepRow), min_entries=0, max_entries=20)

    def load(self, steps) -> None:
        for step in steps:
            self.steps.append_entry({"kind": step.kind.value, "days": step.days})
        for _ in range(BLANK_ROWS):
            self.steps.append_entry({"kind": REMOVE})

    def to_data(self) -> list[tuple[StepKind, int]]:
        """(kind, days) of each row that names a step, by day."""
        rows = [(r.kind.data, r.days.data) for r in self.steps if r.kind.data != REMOVE]
        return sorted(((StepKind(kind), days or 0) for kind, days in rows), key=lambda r: r[1])
