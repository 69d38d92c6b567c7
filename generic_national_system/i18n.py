"""Languages and translations: gettext catalogues (`locale/<lang>/LC_MESSAGES/messages.po`).

The `.po` files are compiled in memory when the app starts (Babel), so a fresh clone needs no
build step and no binary `.mo` files are committed. `N_` marks a message in Python code for
extraction; it is translated where it is shown, in the reader's language.
"""

import functools
import io
from pathlib import Path
from typing import Final

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGUAGES: Final = ("en", "es", "fr")
DEFAULT_LANGUAGE: Final = "en"
LANGUAGE_NAMES: Final = {"en": "English", "es": "Español", "fr": "Français"}
LOCALE_DIR: Final = Path(__file__).resolve().parent / "locale"
DOMAIN: Final = "messages"


def N_(message: str) -> str:
    """Mark `message` for translation; it is translated later, where it is shown."""
    return message


def supported(language: str | None) -> str:
    """`language` if GeNS speaks it, else English."""
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


@functools.cache
def translations(language: str) -> NullTranslations:
    """The catalogue for `language`, compiled from its `.po` file (English is the source)."""
    if language == DEFAULT_LANGUAGE:
        return NullTranslations()
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def negotiate(accept_language: str | None) -> str:
    """The first supported language of an Accept-Language header, by quality."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    ranked: list[tuple[float, str]] = []
    for item in accept_language.split(","):
        tag, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.split("-")[0].lower()
        if primary in LANGUAGES and quality > 0:
            ranked.append((quality, primary))
    ranked.sort(key=lambda pair: -pair[0])
    return ranked[0][1] if ranked else DEFAULT_LANGUAGE
