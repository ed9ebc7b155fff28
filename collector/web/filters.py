"""Template filters: templates format, they do not compute."""

from datetime import date, datetime
from decimal import Decimal
from urllib.parse import urlsplit

from markupsafe import Markup, escape

from collector.core import clock

CURRENCY_SIGNS = {"EUR": "€", "USD": "$", "GBP": "£"}


def money(amount: Decimal | None, currency: str = "EUR") -> str:
    """1234.5 → '€ 1,234.50'; negative amounts (credit notes) keep their sign."""
    if amount is None:
        return ""
    sign = "-" if amount < 0 else ""
    symbol = CURRENCY_SIGNS.get(currency, currency)
    return f"{sign}{symbol} {abs(amount):,.2f}"


def format_date(value: date | datetime | None) -> str:
    """A date as is; an instant (stored in UTC) as the company's wall-clock time."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return clock.local(value).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def status_badge(state) -> Markup:
    name = getattr(state, "value", state) or ""
    css = str(name).lower().replace(" ", "-")
    # Both parts are escaped; Markup only marks the joined result as safe.
    return Markup(f'<span class="badge badge-{escape(css)}">{escape(name)}</span>')  # noqa: S704


def external_url(value: str | None) -> str | None:
    """``value`` if it is an http(s) address, else None: a link taken from upstream
    data (Teamleader's ``web_url``) must never become a ``javascript:`` URL."""
    if value and urlsplit(value).scheme in ("http", "https"):
        return value
    return None


def register(app) -> None:
    app.add_template_filter(money, "money")
    app.add_template_filter(format_date, "date")
    app.add_template_filter(status_badge, "status_badge")
    app.add_template_filter(external_url, "external_url")
