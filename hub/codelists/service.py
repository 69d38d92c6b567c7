"""The harmonised code lists as the hub serves them (SOAP Get* operations and REST)."""

from ephyto_core._codelists import CodeList, CodeLists, CodeRow

#: Lists the hub publishes, by the name of the SOAP operation that returns them.
OPERATION_LISTS = {
    "GetStatements": "statements",
    "GetAdditionalDeclarations": "additional_declarations",
    "GetTreatmentTypes": "treatment_types",
    "GetIntendedUses": "intended_uses",
    "GetConditions": "conditions",
    "GetProductDescriptions": "product_descriptions",
    "GetUnitMeasures": "units",
    "GetMeanOfTransports": "transport_modes",
    "GetPackageTypes": "package_types",
    "GetPesticides": "pesticides",
}


class CodeListService:
    def __init__(self, *, code_lists: CodeLists) -> None:
        self._code_lists = code_lists

    def names(self) -> list[str]:
        return sorted(self._code_lists.names())

    def code_list(self, name: str) -> CodeList:
        return self._code_lists[name]

    def rows(self, name: str, *, lang: str | None = None) -> list[CodeRow]:
        return list(self._code_lists[name].rows(lang))

    def name_of(self, list_name: str, code: int) -> str | None:
        """Display name of a numeric code (certificate types and statuses), English."""
        return self._code_lists[list_name].text(str(code), "en")
