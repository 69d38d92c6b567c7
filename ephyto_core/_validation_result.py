"""The hub's ``ValidationResult`` ``{area, level, field, msg}`` (``ValidatePhytoXML``)."""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Area(StrEnum):
    """Which kind of check found the fault (the hub's ``validationArea``)."""

    SCHEMA = "Schema"
    MANDATORY = "MandatoryElements"
    MAPPING = "Mapping"


class Level(StrEnum):
    """How bad it is (the hub's ``validationLevel``). The hub refuses a document with SEVERE."""

    SEVERE = "SEVERE"
    WARNING = "WARNING"
    INFO = "INFO"


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """One finding: ``field`` is a path such as ``/rsm:SPSCertificate/rsm:SPSConsignment/…``;
    ``msg`` says in plain words what is wrong and what is expected."""

    area: Area
    level: Level
    field: str
    msg: str


def has_severe(results: Iterable[ValidationResult]) -> bool:
    return any(r.level is Level.SEVERE for r in results)
