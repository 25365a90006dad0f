"""The board's language: gettext catalogues under wallboard/locale, one active language per
process (a board, a demo, a replay, an SSH or web server each run in one language).

Widgets, the app, the report and the alert words call `_()` at render time. Module-level
constants that are translated later are marked with `N_()` so extraction finds them and
`_()` translates them where they are drawn."""

from __future__ import annotations

import gettext
from pathlib import Path

LANGUAGES = ("en", "zh-CN")
DOMAIN = "wallboard"
LOCALE_DIR = Path(__file__).parent / "locale"

_active: dict[str, gettext.NullTranslations | str] = {
    "language": "en", "translations": gettext.NullTranslations(),
}  # fmt: skip


def _gettext_code(language: str) -> str:
    """gettext names catalogues `zh_CN`; the config and the flags say `zh-CN` (BCP 47)."""
    return language.replace("-", "_")


def set_language(language: str) -> None:
    """Make `language` (one of LANGUAGES) the process's language. Unknown languages are refused
    by the config and the flags before this is called."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; expected one of {', '.join(LANGUAGES)}")
    translations = gettext.translation(
        DOMAIN, LOCALE_DIR, languages=[_gettext_code(language)], fallback=True)  # fmt: skip
    _active["language"] = language
    _active["translations"] = translations


def language() -> str:
    return str(_active["language"])


def _(message: str) -> str:
    translations = _active["translations"]
    assert isinstance(translations, gettext.NullTranslations)
    return translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    translations = _active["translations"]
    assert isinstance(translations, gettext.NullTranslations)
    return translations.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a string for extraction without translating it yet."""
    return message
