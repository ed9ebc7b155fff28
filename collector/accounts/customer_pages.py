"""What the pages a customer opens from a link have in common — the payment page, the
customer portal, the page to sign a mandate: no login (the token in the address is the
secret, so the headers keep it out of caches, Referer headers and search engines), and
the customer's own language, which the page's links switch with ``?lang=`` and every
further link keeps."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import abort, current_app, request, url_for
from flask_babel import force_locale
from werkzeug.exceptions import HTTPException

from collector.accounts import languages
from collector.runtime.views import content_security_policy

# The languages a customer can switch a page to, each named in itself.
CHOICES = {"nl": "Nederlands", "fr": "Français", "en": "English"}


def chosen_language() -> str | None:
    """The language picked with the page's links (``?lang=``, or a form's ``lang``), if it
    is one we speak."""
    chosen = request.values.get("lang", "")
    return chosen if chosen in CHOICES else None


def locale_for(spoken: str | None) -> str:
    """The locale the customer reads the page in: the one they picked, else their own
    language as the mails choose it (``spoken``: Teamleader's), else their browser's. A
    staff user opening the link sees what the customer sees."""
    spoken = languages.normalize(spoken) if spoken else None
    chosen = chosen_language()
    if chosen and (spoken is None or languages.language_of(spoken) != chosen):
        return languages.BY_LANGUAGE[chosen]
    return spoken or languages.from_browser(request.accept_languages)


def keep() -> dict[str, str]:
    """What every link of the page carries so the picked language stays."""
    chosen = chosen_language()
    return {"lang": chosen} if chosen else {}


def language_links(endpoint: str, **values) -> list[tuple[str, str, str]]:
    """(code, name, address) of each language the page can be read in."""
    return [(code, name, url_for(endpoint, lang=code, **values)) for code, name in CHOICES.items()]


def public_url(endpoint: str, **values) -> str:
    """The page's address as the world reaches it (the provider returns customers there)."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for(endpoint, **values)


def for_token(find: Callable, spoken: Callable, missing) -> Callable:
    """Decorate ``view(subject, **kwargs)``: ``find(token)`` gives the subject, and the view
    — its error pages too — speaks ``spoken(subject)``'s language (``locale_for``). An
    unknown token is a 404 saying ``missing`` (lazy text) in the browser's language."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(token: str, **kwargs):
            subject = find(token)
            with force_locale(locale_for(spoken(subject) if subject is not None else None)):
                try:
                    if subject is None:
                        abort(404, str(missing))
                    return view(subject, **kwargs)
                except HTTPException as exc:
                    return current_app.handle_http_exception(exc)

        return wrapped

    return decorate


def private_headers(response, *, form_targets: str = ""):
    """The headers of a page whose address is its secret. ``form_targets``: where its
    forms may send the customer besides this site (the provider's checkout)."""
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    # A PDF keeps its own policy (the browser's PDF viewer needs it).
    response.headers.setdefault(
        "Content-Security-Policy",
        content_security_policy(form_targets=form_targets, oauth_hosts=False),
    )
    return response
