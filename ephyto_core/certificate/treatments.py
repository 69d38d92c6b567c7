"""Treatments (``AppliedSPSProcess``) with their coded characteristics.

A treatment's detail lives in ``ApplicableSPSProcessCharacteristic`` elements whose first
``Description`` is a code: ``TTL1``/``TTL2`` the two-level IPPC treatment type, ``TTCH`` a chemical
(Codex pesticide code), ``TTTM`` temperature, ``TTCO`` concentration, ``TTAI`` additional
information, and ``TTFT`` the whole treatment as free text. :func:`treatment` always writes
``TTFT`` (composing it from the structured parts unless given), because some importing systems
read only that.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime

from ephyto_core.certificate.model import AppliedProcess, Measure, ProcessCharacteristic, Text


class TreatmentCharacteristic(enum.StrEnum):
    """First ``Description`` of an ``ApplicableSPSProcessCharacteristic``."""

    TYPE_LEVEL_1 = "TTL1"
    TYPE_LEVEL_2 = "TTL2"
    CHEMICAL = "TTCH"
    TEMPERATURE = "TTTM"
    CONCENTRATION = "TTCO"
    ADDITIONAL_INFORMATION = "TTAI"
    FREE_TEXT = "TTFT"


def _coded(code: TreatmentCharacteristic, *values: str) -> ProcessCharacteristic:
    return ProcessCharacteristic(code=code.value, descriptions=tuple(Text(value=v) for v in values))


def _measured(code: TreatmentCharacteristic, value: Measure) -> ProcessCharacteristic:
    return ProcessCharacteristic(code=code.value, value=value)


def _show(measure: Measure) -> str:
    return f"{measure.value} {measure.unit_code}" if measure.unit_code else str(measure.value)


def compose_free_text(
    *,
    level1: str,
    level2: str | None = None,
    chemicals: Sequence[str] = (),
    temperature: Measure | None = None,
    concentration: Measure | None = None,
    duration: Measure | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    additional_information: Sequence[Text] = (),
) -> str:
    """A one-line English rendering of a structured treatment, for ``TTFT``."""
    parts = [f"Treatment: {level1}/{level2}" if level2 else f"Treatment: {level1}"]
    if chemicals:
        parts.append(f"chemical: {', '.join(chemicals)}")
    if temperature is not None:
        parts.append(f"temperature: {_show(temperature)}")
    if concentration is not None:
        parts.append(f"concentration: {_show(concentration)}")
    if duration is not None:
        parts.append(f"duration: {_show(duration)}")
    if start is not None:
        parts.append(f"start: {start.isoformat()}")
    if end is not None:
        parts.append(f"end: {end.isoformat()}")
    english = [t.value for t in additional_information if t.language in (None, "en")]
    if english:
        parts.append(f"additional information: {english[0]}")
    return "; ".join(parts)


def treatment(
    *,
    level1: str,
    level2: str | None = None,
    type_code: str | None = None,
    chemicals: Sequence[str] = (),
    temperature: Measure | None = None,
    concentration: Measure | None = None,
    duration: Measure | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    additional_information: Sequence[Text] = (),
    free_text: Sequence[Text] | None = None,
) -> AppliedProcess:
    """A treatment with structured characteristics and a ``TTFT`` free-text one.

    ``free_text`` gives ``TTFT`` in one or more languages; by default it is composed in English
    from the other arguments (:func:`compose_free_text`).
    """
    if free_text is None:
        composed = compose_free_text(
            level1=level1,
            level2=level2,
            chemicals=chemicals,
            temperature=temperature,
            concentration=concentration,
            duration=duration,
            start=start,
            end=end,
            additional_information=additional_information,
        )
        free_text = (Text(value=composed, language="en"),)
    if not free_text:
        raise ValueError("TTFT needs at least one text")
    characteristics = [
        ProcessCharacteristic(
            code=TreatmentCharacteristic.FREE_TEXT.value, descriptions=tuple(free_text)
        ),
        _coded(TreatmentCharacteristic.TYPE_LEVEL_1, level1),
    ]
    if level2 is not None:
        characteristics.append(_coded(TreatmentCharacteristic.TYPE_LEVEL_2, level2))
    characteristics.extend(_coded(TreatmentCharacteristic.CHEMICAL, c) for c in chemicals)
    if temperature is not None:
        characteristics.append(_measured(TreatmentCharacteristic.TEMPERATURE, temperature))
    if concentration is not None:
        characteristics.append(_measured(TreatmentCharacteristic.CONCENTRATION, concentration))
    if additional_information:
        characteristics.append(
            ProcessCharacteristic(
                code=TreatmentCharacteristic.ADDITIONAL_INFORMATION.value,
                descriptions=tuple(additional_information),
            )
        )
    return AppliedProcess(
        type_code=type_code,
        start=start,
        end=end,
        duration=duration,
        characteristics=tuple(characteristics),
    )


def characteristics_with(process: AppliedProcess, code: str) -> tuple[ProcessCharacteristic, ...]:
    """The process's characteristics with this code, in document order."""
    return tuple(c for c in process.characteristics if c.code == code)


def free_text_of(process: AppliedProcess) -> tuple[Text, ...]:
    """The ``TTFT`` texts of a treatment (empty if the sender wrote none)."""
    return tuple(
        text
        for c in characteristics_with(process, TreatmentCharacteristic.FREE_TEXT)
        for text in c.descriptions
    )
