"""The languages the finance UI speaks, and which one a person gets.

A UI locale is a language and the region whose conventions it formats with: Belgian Dutch
and French (``nl_BE``, ``fr_BE``), Dutch as written in the Netherlands (``nl_NL``), and
English. The translated texts are per language (``collector/translations/nl``, ``fr``);
the region only changes how money and dates read (``core.formatting``). No Flask here.
"""

from __future__ import annotations

from collections.abc import Iterable

# Each locale a person can pick, named in its own language (the picker shows these).
LOCALES: dict[str, str] = {
    "nl_BE": "Nederlands (België)",
    "nl_NL": "Nederlands (Nederland)",
    "fr_BE": "Français (Belgique)",
    "en": "English",
}
DEFAULT = "en"
# A browser asking for a bare language, or a region we do not format for, gets this one.
BY_LANGUAGE = {"nl": "nl_BE", "fr": "fr_BE", "en": "en"}


def normalize(tag: str | None) -> str | None:
    """The UI locale for a tag as browsers and people write it ("nl-NL", "fr_be", "NL",
    "en-US"); None when we do not speak its language."""
    text = (tag or "").strip().replace("-", "_")
    language, _, region = text.partition("_")
    language = language.lower()
    if language not in BY_LANGUAGE:
        return None
    exact = f"{language}_{region.upper()}" if region else language
    return exact if exact in LOCALES else BY_LANGUAGE[language]


def from_browser(accepted: Iterable[tuple[str, float]]) -> str:
    """The locale for an Accept-Language header's (tag, quality) pairs, best first: the
    first language we speak wins ("de, fr-BE;q=0.8, en;q=0.5" → fr_BE), else English."""
    ranked = sorted(accepted, key=lambda pair: pair[1], reverse=True)
    for tag, quality in ranked:
        if quality > 0 and (found := normalize(tag)):
            return found
    return DEFAULT


def language_of(locale: str) -> str:
    """The catalogue a locale reads its texts from: "nl_NL" → "nl"."""
    return locale.partition("_")[0]
