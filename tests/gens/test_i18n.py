"""The Spanish and French catalogues translate every message GeNS can show."""

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from generic_national_system.i18n import LOCALE_DIR, N_, negotiate, translations

PACKAGE = Path(__file__).resolve().parents[2] / "generic_national_system"
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def extracted_messages() -> set[str]:
    """Every message marked in the code and templates, extracted as `pybabel extract` does."""
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(PACKAGE), method_map=method_map, options_map=options
    ):
        if isinstance(message, str):
            found.add(message)
    return found


@pytest.mark.parametrize("language", ["es", "fr"])
def test_every_message_has_a_translation_with_the_same_placeholders(language: str) -> None:
    messages = extracted_messages()
    assert len(messages) > 200  # the extraction really found the templates and the code
    path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        catalogue = read_po(po, locale=language)
    translated = {m.id: m for m in catalogue if m.id and m.string and not m.fuzzy}
    missing = sorted(messages - set(translated))
    assert not missing, missing
    for message in messages:
        string = translated[message].string
        assert isinstance(string, str)
        assert set(_PLACEHOLDER.findall(string)) == set(_PLACEHOLDER.findall(message)), message


def test_catalogues_are_compiled_from_the_po_files_at_start_up() -> None:
    assert translations("es").gettext("Sign in") == "Iniciar sesión"
    assert translations("fr").gettext("Sign in") == "Se connecter"
    assert translations("en").gettext(N_("Sign in")) == "Sign in"


def test_the_browsers_preferred_supported_language_is_chosen() -> None:
    assert negotiate("de-DE,fr;q=0.8,es;q=0.9") == "es"
    assert negotiate("de-DE") == "en"
    assert negotiate(None) == "en"
    assert negotiate("fr-CA;q=0") == "en"
