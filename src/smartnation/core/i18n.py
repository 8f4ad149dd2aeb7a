"""Page text in English, 中文, Melayu and தமிழ், from gettext catalogues.

Each package keeps its own catalogue, `smartnation/<package>/locale/<lang>/LC_MESSAGES/messages.po`
(core's for the shell, one per domain for its pages), so domains grow without touching each other's
files. Catalogues are compiled in memory when first used: no build step.
"""

from __future__ import annotations

import gettext
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po


@dataclass(frozen=True)
class Language:
    code: str
    native_name: str
    english_name: str


LANGUAGES: tuple[Language, ...] = (
    Language("en", "English", "English"),
    Language("zh", "中文", "Chinese"),
    Language("ms", "Melayu", "Malay"),
    Language("ta", "தமிழ்", "Tamil"),
)
LANGUAGE_CODES = frozenset(language.code for language in LANGUAGES)
DEFAULT_LANGUAGE = "en"
PACKAGE_DIR = Path(__file__).resolve().parent.parent

current_language: ContextVar[str] = ContextVar("current_language", default=DEFAULT_LANGUAGE)


def _compile(po_file: Path, code: str) -> gettext.GNUTranslations:
    with po_file.open("rb") as handle:
        catalog = read_po(handle, locale=code)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@cache
def translations(code: str) -> gettext.NullTranslations:
    """Every package's catalogue for a language, chained (English is the source text itself)."""
    if code == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    po_files = sorted(PACKAGE_DIR.glob(f"*/locale/{code}/LC_MESSAGES/messages.po"))
    chain: gettext.NullTranslations = gettext.NullTranslations()
    for po_file in reversed(po_files):
        catalogue = _compile(po_file, code)
        catalogue.add_fallback(chain)
        chain = catalogue
    return chain


def N_(message: str) -> str:
    """Mark a message for translation where it is defined; it is translated where it is shown."""
    return message


def gettext_(message: str) -> str:
    """Translate a message into the language of the current request."""
    return translations(current_language.get()).gettext(message)


def ngettext_(singular: str, plural: str, n: int) -> str:
    return translations(current_language.get()).ngettext(singular, plural, n)


def negotiate(accept_language: str | None) -> str:
    """Pick our best language from an Accept-Language header."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    weighted: list[tuple[float, str]] = []
    for part in accept_language.split(","):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()
        quality = 1.0
        for piece in pieces[1:]:
            if piece.strip().startswith("q="):
                try:
                    quality = float(piece.strip()[2:])
                except ValueError:
                    quality = 0.0
        primary = tag.split("-")[0]
        if primary in LANGUAGE_CODES:
            weighted.append((quality, primary))
    if not weighted:
        return DEFAULT_LANGUAGE
    return max(weighted, key=lambda pair: pair[0])[1]
