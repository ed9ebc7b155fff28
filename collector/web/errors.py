"""The error page in the reader's language.

Werkzeug names its errors and describes them in English ("Not Found", "The requested URL
was not found on the server…"), and Flask-WTF's CSRF refusals are English sentences too.
The codes a person meets get a title and a default description from here; a description
we raised ourselves (``abort(403, _("…"))``) was translated when it was raised and is
shown as it is.
"""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

TITLES: dict[int, LazyString] = {
    400: _l("Bad request"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    413: _l("Too large"),
    429: _l("Too many requests"),
    500: _l("Something went wrong"),
}
# What werkzeug would say (its class's own description), said plainly.
DESCRIPTIONS: dict[int, LazyString] = {
    400: _l("The request could not be understood. Go back and try again."),
    403: _l("You do not have access to this page."),
    404: _l("This page does not exist. Check the address, or start again from the overview."),
    405: _l("This page cannot be used this way."),
    409: _l("This could not be done in the current state of things."),
    413: _l("What was sent is too large."),
    429: _l("Too many requests in a short time. Wait a moment and try again."),
    500: _l("An unexpected error occurred. It has been logged; please try again later."),
}
# Flask-WTF's reasons for refusing a form (``flask_wtf.csrf``), mostly an expired page.
CSRF_REASONS: dict[str, LazyString] = {
    "The CSRF token is missing.": _l("The form was sent without its security token."),
    "The CSRF session token is missing.": _l(
        "Your session has ended. Reload the page and try again."
    ),
    "The CSRF token has expired.": _l("The form expired; please try again."),
    "The CSRF token is invalid.": _l("The form's security token is not valid."),
    "The CSRF tokens do not match.": _l("The form's security token is not valid."),
    "The referrer header is missing.": _l("The form was sent from an unknown page."),
    "The referrer does not match the host.": _l("The form was sent from another site."),
}


def title(exc: HTTPException) -> str:
    """The error's name in the reader's language (werkzeug's for uncommon codes)."""
    known = TITLES.get(exc.code or 0)
    return str(known) if known is not None else exc.name


def description(exc: HTTPException) -> str:
    """What went wrong: werkzeug's default and Flask-WTF's CSRF reasons translated, a
    description we gave ``abort`` as it is."""
    given = exc.description or ""
    if given in CSRF_REASONS:
        return str(CSRF_REASONS[given])
    if given == (type(exc).description or "") and exc.code in DESCRIPTIONS:
        return str(DESCRIPTIONS[exc.code])
    return given
