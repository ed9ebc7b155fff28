"""Form pieces every domain uses. Forms parse and carry the CSRF token; business
rules live in the operations."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    SelectMultipleField,
    widgets,
)


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as checkboxes."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ConfirmForm(FlaskForm):
    """A button that changes something: just the CSRF token."""


NONE = ""


def strip_text(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value
