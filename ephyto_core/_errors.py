"""The error tree shared by both apps.

Every error carries a stable ``code`` (for machines), a plain-words ``message`` and, where it
has one, the ``field`` it is about. The hub renders these as SOAP ``HubWebException`` faults or
problem+json; GeNS renders them next to the form field.
"""


class EphytoError(Exception):
    """Base of every expected, user-facing failure."""

    code = "ephyto_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class UnsafeXmlError(EphytoError):
    """The input is not XML we are willing to parse (DTD, entities, too big or deep, bad bytes)."""

    code = "unsafe_xml"


class MalformedXmlError(EphytoError):
    """The input is not well-formed XML."""

    code = "malformed_xml"


class ContentDecodingError(EphytoError):
    """An envelope ``Content`` could not be decoded (bad base64, bad encoding, empty)."""

    code = "content_decoding"


class CodeListError(EphytoError):
    """A code-list data file is missing or malformed. Raised while loading, never by a lookup."""

    code = "code_list"

    def __init__(self, reason: str, *, path: str, line: int | None = None) -> None:
        where = path if line is None else f"{path}, line {line}"
        super().__init__(f"{where}: {reason}")
        self.reason = reason
        self.path = path
        self.line = line
