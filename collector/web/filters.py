"""Template filters: templates format, they do not compute.

Money, dates and times go through ``collector.core.formatting``, the module the mails use
too, in the UI's locale (``ui_locale``).
"""

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import wraps
from urllib.parse import urlsplit

from jinja2 import pass_context
from markupsafe import Markup, escape

from collector.core import formatting
from collector.web import history, i18n, navigation, query_labels, states


def ui_locale() -> str:
    """The locale pages are formatted in: the reader's (``web.i18n``)."""
    return i18n.ui_locale()


def money(amount: Decimal | None, currency: str = "EUR", credit_note: bool = False) -> str:
    """1234.5 → '€1,234.50'; a credit note's amount (``credit_note=True``) reads negative."""
    return formatting.money(formatting.signed(amount, credit_note), currency, locale=ui_locale())


def number(value: int | Decimal | None) -> str:
    """A count as the reader writes it: 12,345 / 12.345 / 12 345; "" for None. Not for
    ``data-*`` attributes, which scripts and tests read as plain digits."""
    if value is None:
        return ""
    return formatting.number(value, locale=ui_locale())


def document_amount(document, field: str = "total_incl_vat") -> str:
    """One amount of an invoice or credit note in its currency, a credit note's negative:
    ``{{ invoice | document_amount("amount_due") }}``."""
    amount = getattr(document, field)
    return money(amount, document.currency, credit_note=document.is_credit_note)


def format_date(value: date | datetime | None) -> str:
    """A date as "1 Mar 2026"; an instant (stored in UTC) as the company's wall-clock time."""
    if isinstance(value, datetime):
        return format_datetime(value)
    return formatting.format_date(value, locale=ui_locale())


def format_datetime(value: datetime | None) -> str:
    """An instant as the company's wall-clock time: "29 Mar 2026, 03:30"."""
    return formatting.format_datetime(value, locale=ui_locale())


def days_overdue(due: date | None) -> str:
    """Where ``due`` stands today: "12 days overdue", "due today", "due in 3 days"."""
    return formatting.overdue_phrase(due, locale=ui_locale())


def status_badge(state) -> Markup:
    """A state (an enum member or its value) as a badge: the CSS class from the machine
    value (``badge-booked``), the words in the reader's language (``web.states``)."""
    name = str(getattr(state, "value", state) or "")
    css = name.lower().replace(" ", "-")
    text = states.label(name)
    # Both parts are escaped; Markup only marks the joined result as safe.
    return Markup(f'<span class="badge badge-{escape(css)}">{escape(text)}</span>')  # noqa: S704


def external_url(value: str | None) -> str | None:
    """``value`` if it is an http(s) address, else None: a link taken from upstream
    data (Teamleader's ``web_url``) must never become a ``javascript:`` URL."""
    if value and urlsplit(value).scheme in ("http", "https"):
        return value
    return None


def per_reader(function: Callable) -> Callable:
    """``function`` as a filter that runs on every render. Jinja runs a filter on a
    constant (``{{ "partly paid" | status_badge }}``) once, when it compiles the template,
    and keeps the result; a filter that formats or translates for the reader would then
    show everyone the first reader's language. Jinja never does that to a filter that
    takes the render's context, so this one takes it and leaves it."""

    @pass_context
    @wraps(function)
    def on_each_render(_context, *args, **kwargs):
        return function(*args, **kwargs)

    return on_each_render


def register(app) -> None:
    app.add_template_filter(per_reader(money), "money")
    app.add_template_filter(per_reader(number), "number")
    app.add_template_filter(per_reader(document_amount), "document_amount")
    app.add_template_filter(per_reader(format_date), "date")
    app.add_template_filter(per_reader(format_datetime), "datetime")
    app.add_template_filter(per_reader(days_overdue), "days_overdue")
    app.add_template_filter(per_reader(status_badge), "status_badge")
    app.add_template_filter(per_reader(history.actor_text), "actor")
    app.add_template_filter(external_url, "external_url")
    # The layout's menu is template machinery too: one helper marks the current page.
    app.add_template_global(navigation.main_menu, "main_menu")
    app.add_template_global(query_labels.query_label, "query_label")
    app.add_template_global(query_labels.query_message, "query_message")
