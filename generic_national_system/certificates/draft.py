"""What the forms collected for one certificate, stored as JSON until it is issued.

Values are kept exactly as the forms cleaned them (strings, keyed by field name), so a form
shows them again as they were. `certificates.mapping` turns a draft into the typed certificate.
"""

from pydantic import BaseModel, Field


class DraftLine(BaseModel):
    values: dict[str, str] = Field(default_factory=dict)
    treatments: list[dict[str, str]] = Field(default_factory=list)


class Draft(BaseModel):
    #: Section name -> field values (parties, route, declarations, reexport).
    sections: dict[str, dict[str, str]] = Field(default_factory=dict)
    lines: list[DraftLine] = Field(default_factory=list)

    def section(self, name: str) -> dict[str, str]:
        return self.sections.get(name, {})

    def value(self, section: str, name: str) -> str:
        return self.sections.get(section, {}).get(name, "")
