"""Declarative form fields and one parser for all of them.

A form is a list of `FieldSpec`s. `parse_form` turns what the browser posted into clean values
and a message per wrong field; the page shows each message next to its field and keeps what the
person typed (`FormResult.raw`), so nothing has to be typed twice. Messages are msgids with
parameters, translated when the page is rendered, in the reader's language.
"""

import enum
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from generic_national_system.i18n import N_


class Kind(enum.StrEnum):
    TEXT = "text"
    TEXTAREA = "textarea"
    SELECT = "select"  # a closed list: <select>
    DATALIST = "datalist"  # a code typed or picked from suggestions: <input list=…>
    DECIMAL = "decimal"
    INTEGER = "integer"
    DATE = "date"
    CHECKBOX = "checkbox"
    PASSWORD = "password"  # noqa: S105 - a kind of field, not a secret


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldSpec:
    name: str
    label: str
    kind: Kind = Kind.TEXT
    required: bool = False
    max_length: int = 200
    #: The name of the choice list (see `ChoiceSource`) for SELECT and DATALIST.
    choices: str | None = None
    hint: str | None = None
    #: For TEXT: a pattern the value must match fully, and what to say when it does not.
    pattern: re.Pattern[str] | None = None
    pattern_message: str | None = None
    #: Values are upper-cased before checking (codes).
    upper: bool = False
    #: The HTML autocomplete attribute (helps phones fill forms).
    autocomplete: str | None = None
    #: For DECIMAL: zero and negative values are allowed (temperatures).
    signed: bool = False
    #: Shown when the form is new (e.g. the usual unit).
    default: str = ""


class Msgid(str):
    """A message parameter that is itself a msgid: translated before it is put in place."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Message:
    """A translatable message and its parameters (`%(name)s` placeholders)."""

    text: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def translate(self, gettext: Callable[[str], str]) -> str:
        params = {
            key: gettext(value) if isinstance(value, Msgid) else value
            for key, value in self.params.items()
        }
        translated = gettext(self.text)
        return translated % params if params else translated


@dataclass(frozen=True, slots=True)
class Option:
    code: str
    label: str
    group: str | None = None


class ChoiceSource:
    """Where SELECT and DATALIST fields get their options, in a language, and check a code."""

    def options(self, name: str, language: str) -> Sequence[Option]:
        raise NotImplementedError

    def is_valid(self, name: str, code: str) -> bool:
        raise NotImplementedError


@dataclass(slots=True)
class FormResult:
    #: Clean values for every field (checkboxes "true"/"false", decimals normalised).
    values: dict[str, str]
    errors: dict[str, Message]
    #: What the person sent, to show again when there are errors.
    raw: dict[str, str]

    @property
    def ok(self) -> bool:
        return not self.errors

    def add_error(self, name: str, text: str, **params: Any) -> None:
        self.errors.setdefault(name, Message(text, params))


REQUIRED: Final = N_("This field is required.")
TOO_LONG: Final = N_("Enter at most %(max)s characters.")
ONE_LINE: Final = N_("Enter one line of text, without special control characters.")
NOT_IN_LIST: Final = N_("Choose a value from the list.")
NOT_A_NUMBER: Final = N_("Enter a number greater than zero, such as 1250 or 12.5.")
NOT_A_SIGNED_NUMBER: Final = N_("Enter a number, such as 56 or -1.5.")
NOT_AN_INTEGER: Final = N_("Enter a whole number greater than zero.")
NOT_A_DATE: Final = N_("Enter a date as year-month-day, such as 2026-03-14.")

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"[\r\n\t]")
#: The largest quantity a form accepts: far above any consignment, and within what the
#: database and the XML decimal keep exactly.
_MAX_DECIMAL: Final = Decimal("1e12")


def parse_form(
    form: Mapping[str, str],
    specs: Sequence[FieldSpec],
    *,
    choices: ChoiceSource,
) -> FormResult:
    """Check every field of `specs` in `form`; fields not in `specs` are ignored."""
    result = FormResult(values={}, errors={}, raw={})
    for spec in specs:
        raw = form.get(spec.name, "")
        raw = raw if isinstance(raw, str) else ""
        result.raw[spec.name] = raw
        value, error = _clean(spec, raw, choices)
        result.values[spec.name] = value
        if error is not None:
            result.errors[spec.name] = error
    return result


def _clean(spec: FieldSpec, raw: str, choices: ChoiceSource) -> tuple[str, Message | None]:
    if spec.kind is Kind.CHECKBOX:
        return ("true" if raw else "false"), None
    value = raw.replace("\r\n", "\n").strip() if spec.kind is not Kind.PASSWORD else raw
    if spec.upper:
        value = value.upper()
    if not value:
        return "", Message(REQUIRED) if spec.required else None
    if len(value) > spec.max_length:
        return value, Message(TOO_LONG, {"max": spec.max_length})
    if _CONTROL.search(value) or (spec.kind is not Kind.TEXTAREA and _LINE_BREAKS.search(value)):
        return value, Message(ONE_LINE)
    checker = _CHECKERS.get(spec.kind)
    if checker is not None:
        return checker(spec, value, choices)
    if spec.pattern is not None and not spec.pattern.fullmatch(value):
        return value, Message(spec.pattern_message or NOT_IN_LIST)
    return value, None


def _choice(spec: FieldSpec, value: str, choices: ChoiceSource) -> tuple[str, Message | None]:
    assert spec.choices is not None, f"{spec.name} has no choice list"
    if not choices.is_valid(spec.choices, value):
        return value, Message(NOT_IN_LIST)
    return value, None


def parse_decimal(value: str, *, signed: bool = False) -> Decimal | None:
    """A finite decimal, positive unless `signed`; a comma is read as the decimal mark
    (1,5 = 1.5)."""
    text = value.replace(" ", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or abs(number) >= _MAX_DECIMAL or (number <= 0 and not signed):
        return None
    return number


def _decimal(spec: FieldSpec, value: str, _choices: ChoiceSource) -> tuple[str, Message | None]:
    number = parse_decimal(value, signed=spec.signed)
    if number is None:
        return value, Message(NOT_A_SIGNED_NUMBER if spec.signed else NOT_A_NUMBER)
    # Plain notation (no exponent) and no trailing zeros: "1.50" -> "1.5", "1E+3" -> "1000".
    return format(number.normalize(), "f"), None


def _integer(spec: FieldSpec, value: str, _choices: ChoiceSource) -> tuple[str, Message | None]:
    if not value.isdigit() or int(value) <= 0 or len(value) > 9:
        return value, Message(NOT_AN_INTEGER)
    return str(int(value)), None


def _date(spec: FieldSpec, value: str, _choices: ChoiceSource) -> tuple[str, Message | None]:
    try:
        return date.fromisoformat(value).isoformat(), None
    except ValueError:
        return value, Message(NOT_A_DATE)


_CHECKERS: Final[
    dict[Kind, Callable[[FieldSpec, str, ChoiceSource], tuple[str, Message | None]]]
] = {
    Kind.SELECT: _choice,
    Kind.DATALIST: _choice,
    Kind.DECIMAL: _decimal,
    Kind.INTEGER: _integer,
    Kind.DATE: _date,
}
