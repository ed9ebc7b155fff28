"""The UI in Dutch, French and English (issue 18, part 5).

Three kinds of proof:
- *nothing left unmarked*: every text a template shows (and every title, placeholder,
  aria-label and alt) goes through ``_()``; every flash message, form label and validator
  message in the code through ``gettext``/``lazy_gettext``;
- *nothing left untranslated*: every marked text has a Dutch and a French translation
  with the same placeholders;
- *the reader gets their language*: picked, remembered, else the browser's.
"""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import flask_babel
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from jinja2 import Environment, nodes

from collector.accounts import languages
from collector.accounts.models import User
from collector.extensions import db
from collector.web import i18n
from tests.conftest import csrf_token, login

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
# The customer mails speak the customer's language from their own tables (mail/letters.py).
NOT_UI = ("mail/letters/",)
UI_TEMPLATES = sorted(
    str(path.relative_to(TEMPLATES))
    for path in TEMPLATES.rglob("*.html")
    if not str(path.relative_to(TEMPLATES)).startswith(NOT_UI)
)
# Names and codes that read the same in every language.
SAME_IN_EVERY_LANGUAGE = re.compile(
    r"\b(?:collector|Teamleader Focus|Teamleader|Exact Online|Exact|Mollie|SEPA|IBAN|BIC|"
    r"CSV|XLSX|PDF|API|URL|UUID|OGM|XML|SMTP|CODA|MT940|camt\.053|camt\.054|pain\.008|"
    r"pain\.002|EUR|DSO|B2B|CORE|FRST|RCUR|OOFF|FNAL|ID|OK|nl|fr|en|[A-Z]{2}\d{2})\b"
)
LETTER = re.compile(r"[^\W\d_]")
TEXT_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "label"}
JINJA = re.compile(
    r"\{#.*?#\}|\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}|\{%.*?%\}|\{\{.*?\}\}", re.S
)


MARKER = "jinja-marker"


def _skeleton(source: str) -> str:
    """The template's HTML with every Jinja construct (and ``{% trans %}`` block) replaced
    by a marker (inside a tag it reads as an attribute), newlines kept so positions stay
    right."""
    return JINJA.sub(lambda m: f" {MARKER} " + "\n" * m.group().count("\n"), source)


def _unmarked(text: str) -> str | None:
    words = SAME_IN_EVERY_LANGUAGE.sub("", text.replace(MARKER, " "))
    return " ".join(text.replace(MARKER, "…").split()) if LETTER.search(words) else None


def _reads_as_text(value: str) -> bool:
    """A literal that is words for a person ("Yes", "paid in full"), not a CSS class or a
    key ("has-error", "alert")."""
    words = value.strip()
    return bool(words) and (words[0].isupper() or " " in words) and bool(LETTER.search(words))


class _TextFinder(HTMLParser):
    """Collects the texts a reader sees that are not Jinja output."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in TEXT_ATTRIBUTES and value and (text := _unmarked(value)):
                self.found.append((self.getpos()[0], f'{name}="{text}"'))

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data):
        if not self._skip and (text := _unmarked(data)):
            self.found.append((self.getpos()[0], text))


def _literal_outputs(source: str) -> list[tuple[int, str]]:
    """String literals printed as they are: ``{{ "Yes" if paid else "No" }}``."""
    # Parsed only, never rendered: escaping does not come into it.
    tree = Environment(extensions=["jinja2.ext.i18n"], autoescape=True).parse(source)
    found = []
    for output in tree.find_all(nodes.Output):
        for child in output.nodes:
            branches = [child]
            while branches:
                node = branches.pop()
                if isinstance(node, nodes.CondExpr):
                    branches += [node.expr1, node.expr2]
                elif (
                    isinstance(node, nodes.Const)
                    and isinstance(node.value, str)
                    and _reads_as_text(node.value)
                    and (text := _unmarked(node.value))
                ):
                    found.append((node.lineno, f'"{text}"'))
    return found


@pytest.mark.parametrize("name", UI_TEMPLATES)
def test_every_text_of_the_template_is_marked_for_translation(name):
    source = (TEMPLATES / name).read_text()
    finder = _TextFinder()
    finder.feed(_skeleton(source))
    found = sorted(finder.found + _literal_outputs(source))

    assert not found, f"templates/{name} shows texts not marked with _():\n" + "\n".join(
        f"  line {line}: {text}" for line, text in found
    )


def _gettext_call(node: ast.expr) -> bool:
    names = {"_", "_l", "gettext", "ngettext", "lazy_gettext", "lazy_ngettext", "pgettext"}
    func = getattr(node, "func", None)
    return isinstance(node, ast.Call) and getattr(func, "id", getattr(func, "attr", "")) in names


def _plain_text(node: ast.expr | None) -> bool:
    """A literal (or f-string) with letters in it, shown as it is."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(LETTER.search(node.value))
    if isinstance(node, ast.JoinedStr):
        return True
    return isinstance(node, ast.BinOp) and (_plain_text(node.left) or _plain_text(node.right))


def _code_texts(path: Path) -> list[str]:
    """Flash messages, form labels and validator messages written as plain strings."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call):
            continue
        func = getattr(node.func, "id", getattr(node.func, "attr", ""))
        if func == "flash" and node.args and _plain_text(node.args[0]):
            found.append(f"{node.lineno}: flash message")
        elif func.endswith("Field") and node.args and _plain_text(node.args[0]):
            found.append(f"{node.lineno}: label of {func}")
        for keyword in node.keywords:
            if keyword.arg in ("message", "label", "description") and _plain_text(keyword.value):
                found.append(f"{node.lineno}: {keyword.arg}= of {func}")
    return found


def test_flash_messages_labels_and_validator_messages_are_marked_for_translation():
    api = ROOT / "collector" / "api"  # the API answers programs, in English
    found = {
        str(path.relative_to(ROOT)): texts
        for path in sorted((ROOT / "collector").rglob("*.py"))
        if api not in path.parents and (texts := _code_texts(path))
    }
    assert not found, "plain texts shown to a person:\n" + "\n".join(
        f"  {name}:{text}" for name, texts in found.items() for text in texts
    )


def _read_directory(path: str) -> bool:
    """Babel skips "_" directories by default: templates/_partials must be read too (as
    ``make translations`` does with ``--ignore-dirs``)."""
    return not Path(path).name.startswith((".", "__"))


def _extracted() -> set[str]:
    """Every text the source marks, as ``make translations`` gathers them."""
    method_map = [("templates/mail/letters/**", "ignore"), ("collector/**.py", "python")]
    method_map.append(("templates/**.html", "jinja2"))
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "N_": None}
    keywords |= {"lazy_gettext": None, "lazy_ngettext": (1, 2), "pgettext": ((1, "c"), 2)}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, keywords=keywords, directory_filter=_read_directory
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.fixture(scope="module")
def catalogues():
    loaded = {}
    for language in ("nl", "fr"):
        with (i18n.CATALOGUES / language / "LC_MESSAGES" / "messages.po").open("rb") as source:
            loaded[language] = read_po(source, locale=language)
    return loaded


@pytest.mark.parametrize("language", ["nl", "fr"])
def test_every_marked_text_is_translated(catalogues, language):
    catalogue = catalogues[language]
    missing = []
    for msgid in sorted(_extracted()):
        message = catalogue.get(msgid)
        strings = message.string if message is not None else ""
        if isinstance(strings, str):
            strings = (strings,)
        if message is None or message.fuzzy or not all(strings):
            missing.append(msgid)
    assert not missing, (
        f"{len(missing)} texts have no {language} translation (run `make translations`, "
        "then translate them):\n" + "\n".join(f"  {msgid!r}" for msgid in missing[:40])
    )


@pytest.mark.parametrize("language", ["nl", "fr"])
def test_translations_keep_the_placeholders(catalogues, language):
    problems = [
        f"{message.id!r}: {'; '.join(str(error) for error in errors)}"
        for message, errors in catalogues[language].check()
    ]
    assert not problems, "\n".join(problems)


# -- which language a reader gets -----------------------------------------------------------


def _stored_locale(user: User) -> str | None:
    db.session.expire_all()  # what the request committed, not this session's copy
    return db.session.get(User, user.id).locale


def test_a_bare_language_or_unknown_region_gets_our_region_and_others_get_english():
    assert languages.normalize("nl-NL") == "nl_NL"
    assert languages.normalize("NL") == "nl_BE"
    assert languages.normalize("fr-FR") == "fr_BE"
    assert languages.normalize("en-US") == "en"
    assert languages.normalize("de-DE") is None
    assert languages.from_browser([("de", 1.0), ("fr-BE", 0.8), ("en", 0.5)]) == "fr_BE"
    assert languages.from_browser([("en", 0.4), ("nl", 0.9)]) == "nl_BE"
    assert languages.from_browser([("de", 1.0), ("nl", 0)]) == "en"
    assert languages.from_browser([]) == "en"


def test_the_login_page_speaks_the_browsers_language(client):
    french = client.get("/login", headers={"Accept-Language": "de;q=1, fr-BE;q=0.8"})
    dutch = client.get("/login", headers={"Accept-Language": "nl-NL,nl;q=0.9"})
    english = client.get("/login")

    assert '<html lang="fr-BE">' in french.text and "Se connecter" in french.text
    assert '<html lang="nl-NL">' in dutch.text and "Inloggen" in dutch.text
    assert '<html lang="en">' in english.text and "Log in" in english.text


def test_a_language_picked_is_kept_on_the_user_and_formats_money_its_way(client, admin):
    login(client, admin.email)
    token = csrf_token(client, "/")
    answer = client.post(
        "/language", data={"locale": "nl_NL", "next": "/customers", "csrf_token": token}
    )

    assert answer.status_code == 302 and answer.headers["Location"] == "/customers"
    assert _stored_locale(admin) == "nl_NL"
    page = client.get("/", headers={"Accept-Language": "fr"})
    assert '<html lang="nl-NL">' in page.text and "Uitloggen" in page.text


def test_a_language_picked_before_login_survives_the_login(client, admin):
    token = csrf_token(client, "/login")
    client.post("/language", data={"locale": "fr_BE", "next": "/login", "csrf_token": token})
    login(client, admin.email)

    assert '<html lang="fr-BE">' in client.get("/").text
    assert _stored_locale(admin) is None  # the session's, not saved


@pytest.mark.parametrize(
    "form",
    [
        {"locale": "de_DE"},  # not a language we speak
        {"locale": "nl"},  # a bare language is not a locale one picks
    ],
)
def test_an_unknown_language_is_refused_and_nothing_is_stored(client, admin, form):
    login(client, admin.email)
    token = csrf_token(client, "/")
    answer = client.post("/language", data={**form, "csrf_token": token})

    assert answer.status_code == 400
    assert _stored_locale(admin) is None


def test_picking_a_language_needs_the_csrf_token_and_never_leaves_the_site(client, admin):
    login(client, admin.email)
    assert client.post("/language", data={"locale": "fr_BE"}).status_code == 400
    token = csrf_token(client, "/")
    for away in ("https://evil.example/", "//evil.example/", "/\\evil.example/"):
        answer = client.post(
            "/language", data={"locale": "fr_BE", "next": away, "csrf_token": token}
        )
        assert answer.headers["Location"] == "/"


def test_a_filter_on_a_constant_formats_for_each_reader_not_the_first(app):
    # Jinja folds a filter on a constant when it compiles a template and keeps the
    # template: the first reader's language must not stay in it for the next.
    template = app.jinja_env.from_string(
        '{{ "partly paid" | status_badge }} {{ "cancelled" | status_badge }}'
    )
    seen = {}
    for language in ("nl-BE", "fr-BE", "en"):
        with app.test_request_context(headers={"Accept-Language": language}):
            flask_babel.refresh()  # the suite's app context outlives each request here
            seen[language] = template.render()
    assert ">deels betaald<" in seen["nl-BE"] and ">geannuleerd<" in seen["nl-BE"]
    assert ">payé en partie<" in seen["fr-BE"] and ">annulé<" in seen["fr-BE"]
    assert ">partly paid<" in seen["en"] and ">cancelled<" in seen["en"]
    # Every filter that formats or translates runs on each render.
    for name in ("money", "document_amount", "date", "datetime", "days_overdue", "status_badge"):
        assert app.jinja_env.filters[name].jinja_pass_arg.name == "context", name
