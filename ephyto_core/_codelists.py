"""The harmonised code lists (``schemas/codelists/*.csv``): loaded once, then looked up in O(1).

Each CSV file is one list (file stem = list name) with one row per (code, language), the shape
of the hub's ``Get*`` code-list operations. Validation runs these lookups for every certificate,
so everything is indexed at load (dicts and frozensets) and a lookup never touches the disk.
A malformed file is refused at load with its path, line and reason: better a hub that does not
start than one that silently accepts unknown codes.
"""

import csv
import functools
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType

from ephyto_core._errors import CodeListError
from ephyto_core._paths import codelists_dir

__all__ = [
    "KNOWN_LISTS",
    "CodeList",
    "CodeLists",
    "CodeRow",
    "default_code_lists",
    "read_code_list",
]

DEFAULT_LANG = "en"
BASE_COLUMNS = ("code", "lang", "text", "active", "last_modified", "last_modified_by")

#: The lists the hub serves and validates against; ``CodeLists.load`` refuses a set missing one.
KNOWN_LISTS = (
    "additional_declarations",
    "certificate_statuses",
    "certificate_types",
    "conditions",
    "countries",
    "intended_uses",
    "note_subjects",
    "package_levels",
    "package_types",
    "pesticides",
    "product_descriptions",
    "statements",
    "transport_modes",
    "treatment_types",
    "units",
)

# Columns beyond BASE_COLUMNS that the hub's types carry or our validation reads. Other extra
# columns (e.g. pesticides.codex_number) are kept but optional.
_REQUIRED_EXTRA: Mapping[str, tuple[str, ...]] = {
    "additional_declarations": ("additional_code", "optional_text"),
    "note_subjects": ("scope", "doc_type_only", "value_kind"),
    "statements": ("doc_type_only",),
    "transport_modes": ("used_transport_mean",),
    "treatment_types": ("level", "parent_code"),
    "units": ("type", "symbol"),
}

_DOC_TYPES = frozenset({"0", "851", "657"})
_ALLOWED_VALUES: Mapping[tuple[str, str], frozenset[str]] = {
    ("units", "type"): frozenset(
        {"WEIGHT", "VOLUME", "DURATION", "TEMPERATURE", "CONCENTRATION", "AREA", "DISTANCE"}
    ),
    ("statements", "doc_type_only"): _DOC_TYPES,
    ("note_subjects", "doc_type_only"): _DOC_TYPES,
    ("note_subjects", "scope"): frozenset({"document", "trade_line", "treatment"}),
    ("note_subjects", "value_kind"): frozenset(
        {
            "text",
            "number",
            "date",
            "boolean",
            "country",
            "statement",
            "treatment_type",
            "pesticide",
            "measure",
        }
    ),
    ("treatment_types", "level"): frozenset({"1", "2"}),
}

# xs:boolean's lexical space, which is what the hub's ``active`` element carries.
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
_LANG = re.compile(r"[a-z]{2}")
_NO_EXTRA: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class CodeRow:
    """One (code, language) row of a code list."""

    code: str
    lang: str
    text: str
    active: bool
    last_modified: datetime
    last_modified_by: str
    #: List-specific columns (``type``/``symbol`` for units, ``doc_type_only`` for statements…).
    extra: Mapping[str, str] = field(default_factory=lambda: _NO_EXTRA, hash=False)


class CodeList:
    """One code list, indexed by code and by (code, language).

    A code counts as active when at least one of its language rows is active; inactive codes
    keep their texts so that old certificates still display.
    """

    __slots__ = ("_active", "_all", "_by_key", "_by_lang", "_rows", "name")

    def __init__(self, name: str, rows: Iterable[CodeRow]) -> None:
        self.name = name
        self._rows = tuple(rows)
        by_key: dict[tuple[str, str], CodeRow] = {}
        by_lang: dict[str, list[CodeRow]] = {}
        for row in self._rows:
            by_key[(row.code, row.lang)] = row
            by_lang.setdefault(row.lang, []).append(row)
        self._by_key = by_key
        self._by_lang = {lang: tuple(lang_rows) for lang, lang_rows in by_lang.items()}
        self._all = frozenset(row.code for row in self._rows)
        self._active = frozenset(row.code for row in self._rows if row.active)

    def rows(self, lang: str | None = None) -> Sequence[CodeRow]:
        """All rows in file order, or only those in ``lang`` (empty if the list lacks it)."""
        if lang is None:
            return self._rows
        return self._by_lang.get(lang, ())

    def codes(self, *, active_only: bool = True) -> frozenset[str]:
        return self._active if active_only else self._all

    def languages(self) -> frozenset[str]:
        return frozenset(self._by_lang)

    def __contains__(self, code: object) -> bool:
        """True for an active code."""
        return code in self._active

    def __len__(self) -> int:
        """Number of distinct codes, active or not."""
        return len(self._all)

    def get(self, code: str, lang: str = DEFAULT_LANG) -> CodeRow | None:
        """The row for exactly (code, lang), or None. No language fallback."""
        return self._by_key.get((code, lang))

    def text(self, code: str, lang: str = DEFAULT_LANG) -> str | None:
        """The code's text in ``lang``, else in English, else None."""
        row = self._by_key.get((code, lang)) or self._by_key.get((code, DEFAULT_LANG))
        return row.text if row is not None else None

    def __repr__(self) -> str:
        return f"<CodeList {self.name}: {len(self._all)} codes, {len(self._rows)} rows>"


class CodeLists:
    """Every code list of one directory, by name."""

    __slots__ = ("_lists", "directory")

    def __init__(self, lists: Mapping[str, CodeList], *, directory: Path) -> None:
        self._lists = dict(lists)
        self.directory = directory

    @classmethod
    def load(cls, directory: Path | None = None) -> "CodeLists":
        """Read every ``*.csv`` of ``directory`` (default: the bundled ``schemas/codelists``).

        Raises CodeListError naming the file and line of the first problem, or the lists that
        are missing.
        """
        directory = codelists_dir() if directory is None else directory
        if not directory.is_dir():
            raise CodeListError("code-list directory not found", path=str(directory))
        lists = {path.stem: read_code_list(path) for path in sorted(directory.glob("*.csv"))}
        missing = [name for name in KNOWN_LISTS if name not in lists]
        if missing:
            raise CodeListError(
                f"missing code list file(s): {', '.join(f'{m}.csv' for m in missing)}",
                path=str(directory),
            )
        return cls(lists, directory=directory)

    def __getitem__(self, name: str) -> CodeList:
        try:
            return self._lists[name]
        except KeyError:
            raise KeyError(f"no code list {name!r}; known: {', '.join(self.names())}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._lists

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._lists))

    @property
    def additional_declarations(self) -> CodeList:
        return self["additional_declarations"]

    @property
    def certificate_statuses(self) -> CodeList:
        return self["certificate_statuses"]

    @property
    def certificate_types(self) -> CodeList:
        return self["certificate_types"]

    @property
    def conditions(self) -> CodeList:
        return self["conditions"]

    @property
    def countries(self) -> CodeList:
        return self["countries"]

    @property
    def intended_uses(self) -> CodeList:
        return self["intended_uses"]

    @property
    def note_subjects(self) -> CodeList:
        return self["note_subjects"]

    @property
    def package_levels(self) -> CodeList:
        return self["package_levels"]

    @property
    def package_types(self) -> CodeList:
        return self["package_types"]

    @property
    def pesticides(self) -> CodeList:
        return self["pesticides"]

    @property
    def product_descriptions(self) -> CodeList:
        return self["product_descriptions"]

    @property
    def statements(self) -> CodeList:
        return self["statements"]

    @property
    def transport_modes(self) -> CodeList:
        return self["transport_modes"]

    @property
    def treatment_types(self) -> CodeList:
        return self["treatment_types"]

    @property
    def units(self) -> CodeList:
        return self["units"]

    def __repr__(self) -> str:
        return f"<CodeLists {self.directory}: {', '.join(self.names())}>"


@functools.cache
def default_code_lists() -> CodeLists:
    """The bundled code lists (or those under ``EPHYTO_SCHEMAS_DIR``), loaded on first use."""
    return CodeLists.load()


def read_code_list(path: Path) -> CodeList:
    """Parse and check one code-list CSV file; the list is named after the file stem."""
    return _Parser(path).parse()


class _Parser:
    """Reads one file, turning every problem into a CodeListError with its line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = path.stem
        # Every row of a file usually shares one timestamp: parse each distinct string once.
        self._stamps: dict[str, datetime] = {}

    def fail(self, reason: str, line: int | None = None) -> CodeListError:
        return CodeListError(reason, path=str(self.path), line=line)

    def parse(self) -> CodeList:
        text = self._read_text()
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        try:
            first = next(reader, None)
        except csv.Error as exc:
            raise self.fail(f"CSV syntax error: {exc}", 1) from exc
        if first is None:
            raise self.fail("empty file, expected a header row", 1)
        header = self._header(first)
        extras = tuple(column for column in header if column not in BASE_COLUMNS)
        position = {column: index for index, column in enumerate(header)}
        rows: list[CodeRow] = []
        lines: list[int] = []
        first_seen: dict[tuple[str, str], int] = {}
        start = reader.line_num + 1
        try:
            for record in reader:
                line, start = start, reader.line_num + 1
                if not record:  # blank line
                    continue
                row = self._row(record, line, header, position, extras)
                key = (row.code, row.lang)
                if key in first_seen:
                    raise self.fail(
                        f"duplicate code {row.code!r} for language {row.lang!r} "
                        f"(first on line {first_seen[key]})",
                        line,
                    )
                first_seen[key] = line
                rows.append(row)
                lines.append(line)
        except csv.Error as exc:
            # Name the line where the broken record starts: an unclosed quote swallows the rest.
            raise self.fail(f"CSV syntax error in the record starting here: {exc}", start) from exc
        if not rows:
            raise self.fail("no data rows")
        if self.name == "treatment_types":
            self._check_treatment_tree(rows, lines)
        return CodeList(self.name, rows)

    def _read_text(self) -> str:
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise self.fail(f"cannot read file: {exc.strerror or exc}") from exc
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise self.fail(f"not valid UTF-8 ({exc.reason})", line) from exc

    def _header(self, first: list[str]) -> tuple[str, ...]:
        header = tuple(column.strip() for column in first)
        if len(set(header)) != len(header) or "" in header:
            raise self.fail(f"header has empty or repeated column names: {list(header)}", 1)
        required = BASE_COLUMNS + _REQUIRED_EXTRA.get(self.name, ())
        missing = [column for column in required if column not in header]
        if missing:
            raise self.fail(f"header lacks column(s): {', '.join(missing)}", 1)
        return header

    def _row(
        self,
        record: list[str],
        line: int,
        header: tuple[str, ...],
        position: Mapping[str, int],
        extras: tuple[str, ...],
    ) -> CodeRow:
        if len(record) != len(header):
            raise self.fail(f"expected {len(header)} fields, found {len(record)}", line)

        def cell(column: str) -> str:
            return record[position[column]]

        code, lang, text = cell("code"), cell("lang"), cell("text")
        if not code or code != code.strip():
            raise self.fail(f"code must be non-empty without surrounding spaces: {code!r}", line)
        if not _LANG.fullmatch(lang):
            raise self.fail(f"lang must be a lower-case ISO 639-1 code, got {lang!r}", line)
        if not text.strip():
            raise self.fail(f"empty text for code {code!r}", line)
        active = _BOOLEANS.get(cell("active").strip().lower())
        if active is None:
            raise self.fail(f"active must be true or false, got {cell('active')!r}", line)
        extra = {column: cell(column) for column in extras}
        for column, value in extra.items():
            allowed = _ALLOWED_VALUES.get((self.name, column))
            if allowed is not None and value not in allowed:
                raise self.fail(
                    f"{column} must be one of {', '.join(sorted(allowed))}, got {value!r}", line
                )
        return CodeRow(
            code=code,
            lang=lang,
            text=text,
            active=active,
            last_modified=self._timestamp(cell("last_modified"), line),
            last_modified_by=cell("last_modified_by"),
            extra=MappingProxyType(extra) if extra else _NO_EXTRA,
        )

    def _timestamp(self, value: str, line: int) -> datetime:
        stamp = self._stamps.get(value)
        if stamp is not None:
            return stamp
        try:
            stamp = datetime.fromisoformat(value)
        except ValueError:
            raise self.fail(
                f"last_modified is not an ISO 8601 date-time: {value!r}", line
            ) from None
        if stamp.utcoffset() != timedelta(0):
            raise self.fail(f"last_modified must be in UTC (Z or +00:00): {value!r}", line)
        self._stamps[value] = stamp
        return stamp

    def _check_treatment_tree(self, rows: Sequence[CodeRow], lines: Sequence[int]) -> None:
        level_one = {row.code for row in rows if row.extra["level"] == "1"}
        for row, line in zip(rows, lines, strict=True):
            parent = row.extra["parent_code"]
            if row.extra["level"] == "1" and parent:
                raise self.fail(f"level-1 treatment {row.code!r} must not have a parent", line)
            if row.extra["level"] == "2" and parent not in level_one:
                raise self.fail(
                    f"level-2 treatment {row.code!r} has no level-1 parent {parent!r}", line
                )
