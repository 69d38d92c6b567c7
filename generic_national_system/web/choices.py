"""Options for pickers: the harmonised code lists in the reader's language, and a few fixed lists.

Names: a code-list name (`countries`, `package_types`…), a filtered list (`units:WEIGHT`,
`statements:851`, `treatment_types` grouped by level 1), or a fixed list (`languages`, `roles`).
Options are built once per (name, language) and cached: the lists do not change while running.
"""

import functools
from collections.abc import Mapping, Sequence

from ephyto_core._codelists import CodeList, CodeLists, CodeRow
from generic_national_system.accounts.roles import ROLE_LABELS, Role
from generic_national_system.i18n import LANGUAGE_NAMES, LANGUAGES, N_, translations
from generic_national_system.web.forms import ChoiceSource, Option

_FIXED_CERTIFICATE_TYPES = ("851", "657")
#: Small closed lists of the import side and the reports: code -> msgid.
FIXED_LISTS: dict[str, tuple[tuple[str, str], ...]] = {
    "ack_kinds": (
        ("ok", N_("Received and readable")),
        ("with_warnings", N_("Received, with warnings")),
        ("failed", N_("Cannot be read or processed")),
    ),
    "decisions": (
        ("accepted", N_("Accept the consignment")),
        ("rejected", N_("Reject the consignment")),
    ),
    "directions": (("exports", N_("Exports")), ("imports", N_("Imports"))),
}


class CodeListChoices(ChoiceSource):
    def __init__(self, code_lists: CodeLists) -> None:
        self._lists = code_lists
        # Bound per instance; functools.cache on a method would keep instances alive forever.
        self._options = functools.cache(self._build)
        self._valid = functools.cache(self._codes)

    @property
    def code_lists(self) -> CodeLists:
        return self._lists

    def options(self, name: str, language: str) -> Sequence[Option]:
        return self._options(name, language)

    def is_valid(self, name: str, code: str) -> bool:
        return code in self._valid(name)

    def label(self, name: str, code: str, language: str) -> str:
        """The text of `code` in `language` (English if missing; the code if unknown)."""
        list_name = name.partition(":")[0]
        if list_name in ("languages", "roles", *FIXED_LISTS):
            return {o.code: o.label for o in self._build(list_name, language)}.get(code, code)
        if list_name not in self._lists:
            return code
        return self._lists[list_name].text(code, language) or code

    def _codes(self, name: str) -> frozenset[str]:
        return frozenset(option.code for option in self._build(name, "en"))

    def _build(self, name: str, language: str) -> tuple[Option, ...]:
        list_name, _, qualifier = name.partition(":")
        if list_name == "languages":
            return tuple(Option(code, LANGUAGE_NAMES[code]) for code in LANGUAGES)
        if list_name == "roles":
            gettext = translations(language).gettext
            return tuple(Option(role.value, gettext(ROLE_LABELS[role])) for role in Role)
        if list_name in FIXED_LISTS:
            gettext = translations(language).gettext
            return tuple(Option(code, gettext(text)) for code, text in FIXED_LISTS[list_name])
        if list_name == "certificate_types":
            codes = self._lists.certificate_types
            return tuple(
                Option(code, f"{code} – {codes.text(code, language)}")
                for code in _FIXED_CERTIFICATE_TYPES
            )
        code_list = self._lists[list_name]
        rows = [
            row
            for row in code_list.rows("en")
            if row.active and _matches(list_name, row.extra, qualifier)
        ]
        if list_name == "treatment_types":
            return _treatment_options(rows, code_list, language)
        options = [Option(row.code, code_list.text(row.code, language) or row.code) for row in rows]
        if list_name in ("countries", "package_types", "units", "pesticides"):
            options.sort(key=lambda option: option.label.casefold())
        return tuple(options)


def _matches(list_name: str, extra: Mapping[str, str], qualifier: str) -> bool:
    if not qualifier:
        return True
    if list_name == "units":
        return bool(extra.get("type") == qualifier)
    if list_name == "statements":
        return extra.get("doc_type_only") in ("0", qualifier)
    return True


def _treatment_options(
    rows: list[CodeRow], code_list: CodeList, language: str
) -> tuple[Option, ...]:
    # Level-1 types group their level-2 types; a level-1 type can itself be chosen.
    groups = {
        row.code: code_list.text(row.code, language) for row in rows if row.extra["level"] == "1"
    }
    options = []
    for parent, group_label in groups.items():
        options.append(Option(parent, group_label or parent, group=group_label))
        options.extend(
            Option(row.code, code_list.text(row.code, language) or row.code, group=group_label)
            for row in rows
            if row.extra["parent_code"] == parent
        )
    return tuple(options)
