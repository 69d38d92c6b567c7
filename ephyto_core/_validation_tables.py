"""The code lists the certificate rules consult, flattened once into sets and dicts.

The rules run on every submitted certificate, so a lookup must be a set membership, not a walk
over multilingual rows. :class:`CodeTables` is built once per validator from a
:class:`~ephyto_core._codelists.CodeLists` and never changes (refreshed lists, new validator).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from ephyto_core._codelists import CodeList, CodeLists

_NOTHING: Final[Mapping[str, str]] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Codes:
    """One list's codes: ``active`` ones may be used; ``retired`` ones (all of their rows
    inactive) are still known, so old certificates keep their meaning."""

    active: frozenset[str]
    retired: frozenset[str]
    #: code → the list-specific columns of its first row (``type`` for units, …)
    extra: Mapping[str, Mapping[str, str]]

    @classmethod
    def of(cls, code_list: CodeList) -> Codes:
        extra: dict[str, Mapping[str, str]] = {}
        for row in code_list.rows():
            extra.setdefault(row.code, row.extra)
        active = code_list.codes()
        return cls(
            active=active,
            retired=code_list.codes(active_only=False) - active,
            extra=MappingProxyType(extra),
        )

    def column(self, code: str, name: str) -> str:
        return self.extra.get(code, _NOTHING).get(name, "").strip()


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeTables:
    countries: Codes
    transport_modes: Codes
    units: Codes
    package_levels: Codes
    package_types: Codes
    statements: Codes
    treatment_types: Codes
    intended_uses: Codes
    conditions: Codes
    product_descriptions: Codes
    pesticides: Codes
    note_subjects: Codes
    certificate_types: Codes
    certificate_statuses: Codes

    @classmethod
    def from_code_lists(cls, lists: CodeLists) -> CodeTables:
        return cls(
            countries=Codes.of(lists.countries),
            transport_modes=Codes.of(lists.transport_modes),
            units=Codes.of(lists.units),
            package_levels=Codes.of(lists.package_levels),
            package_types=Codes.of(lists.package_types),
            statements=Codes.of(lists.statements),
            treatment_types=Codes.of(lists.treatment_types),
            intended_uses=Codes.of(lists.intended_uses),
            conditions=Codes.of(lists.conditions),
            product_descriptions=Codes.of(lists.product_descriptions),
            pesticides=Codes.of(lists.pesticides),
            note_subjects=Codes.of(lists.note_subjects),
            certificate_types=Codes.of(lists.certificate_types),
            certificate_statuses=Codes.of(lists.certificate_statuses),
        )


def only_on(codes: Codes, code: str) -> str:
    """The one document type a code is limited to (``doc_type_only``), or ``""`` for any."""
    value = codes.column(code, "doc_type_only")
    return "" if value in ("", "0") else value
