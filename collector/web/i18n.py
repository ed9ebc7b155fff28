"""The UI in the reader's language: Flask-Babel, with the catalogues read as text.

Which locale a request gets: the one the person picked (stored on their user, or in the
session before they log in), else the first of their browser's languages we speak, else
English (``accounts.languages``). Texts are marked with ``_()`` in templates and with
``gettext``/``lazy_gettext`` in code, and translated from
``collector/translations/<language>/LC_MESSAGES/messages.po``.

The ``.po`` files are read directly (and turned into a catalogue in memory, once per
process): there is no compiled ``.mo`` to build, ship or forget to rebuild.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import Flask, has_request_context, request, session
from flask_babel import Babel, Domain, get_locale
from flask_login import current_user
from jinja2 import pass_context

from collector.accounts import languages
from collector.core import formatting

CATALOGUES = Path(__file__).resolve().parents[1] / "translations"
SESSION_KEY = "locale"


@functools.cache
def catalogue(language: str) -> NullTranslations:
    """The translations of one language from its ``.po`` file (English: none needed).
    Fuzzy entries are left out, as ``pybabel compile`` would."""
    path = CATALOGUES / language / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return NullTranslations()
    with path.open("rb") as source:
        messages = read_po(source, locale=language)
    compiled = BytesIO()
    write_mo(compiled, messages, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain="messages")


class CatalogueDomain(Domain):
    """Flask-Babel's domain, reading our catalogues by language (nl_BE and nl_NL share
    one Dutch text)."""

    def get_translations(self):
        locale = get_locale()
        if locale is None:
            return NullTranslations()
        return catalogue(locale.language)


class CollectorBabel(Babel):
    @functools.cached_property
    def domain_instance(self):
        return CatalogueDomain()


babel = CollectorBabel()


def select_locale() -> str:
    """The locale of this request (see the module's docstring)."""
    if not has_request_context():
        return languages.DEFAULT
    picked = getattr(current_user, "locale", None) if current_user else None
    picked = picked or session.get(SESSION_KEY)
    if picked and (known := languages.normalize(picked)):
        return known
    return languages.from_browser(request.accept_languages)


def ui_locale() -> str:
    """The locale pages format money and dates in ("nl_BE"); English outside a request."""
    locale = get_locale() if has_request_context() else None
    return str(locale) if locale is not None else languages.DEFAULT


def html_lang() -> str:
    """The page's ``lang`` attribute: "nl-BE", "fr-BE", "en"."""
    return ui_locale().replace("_", "-")


def counted(ngettext: Callable) -> Callable:
    """The templates' ``ngettext`` with its count written the reader's way: "1.250
    documenten", "1 250 documents", "1,250 documents" (Jinja puts the bare number in
    ``%(num)s``). A template that passes ``num`` itself keeps it."""

    @pass_context
    def plural(context, singular: str, plural_text: str, count: int, /, **variables):
        variables.setdefault("num", formatting.number(count, locale=ui_locale()))
        return ngettext(context, singular, plural_text, count, **variables)

    return plural


def init_app(app: Flask) -> None:
    babel.init_app(app, default_locale=languages.DEFAULT, locale_selector=select_locale)
    app.jinja_env.globals["ngettext"] = counted(app.jinja_env.globals["ngettext"])
    app.add_template_global(html_lang, "html_lang")
    app.add_template_global(ui_locale, "ui_locale")
    app.add_template_global(languages.LOCALES, "ui_locales")
