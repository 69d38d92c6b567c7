"""The core both apps share: hostile-input-safe XML, schemas, code lists, validation, PKI.

Modules with a leading underscore are private; this is the public face. The certificate model,
builder and reader are in :mod:`ephyto_core.certificate`; receiver-side seal checks in
:mod:`ephyto_core.seal`.
"""

from ephyto_core._codelists import CodeList, CodeLists, CodeRow, default_code_lists
from ephyto_core._errors import (
    ContentDecodingError,
    EphytoError,
    MalformedXmlError,
    UnsafeXmlError,
)
from ephyto_core._pki import (
    IssuedCertificate,
    create_ca,
    fingerprint_sha256,
    issue_client_certificate,
    issue_seal_certificate,
    issue_server_certificate,
    issue_signing_certificate,
    load_certificate,
)
from ephyto_core._safexml import (
    DEFAULT_LIMITS,
    XmlLimits,
    decode_content,
    parse_content,
    parse_untrusted,
)
from ephyto_core._schemas import SchemaSet, default_schema_set, load_schema_set
from ephyto_core._validation import (
    Area,
    Level,
    ValidationReport,
    ValidationResult,
    Validator,
    default_validator,
    has_severe,
)

__all__ = [
    "DEFAULT_LIMITS",
    "Area",
    "CodeList",
    "CodeLists",
    "CodeRow",
    "ContentDecodingError",
    "EphytoError",
    "IssuedCertificate",
    "Level",
    "MalformedXmlError",
    "SchemaSet",
    "UnsafeXmlError",
    "ValidationReport",
    "ValidationResult",
    "Validator",
    "XmlLimits",
    "create_ca",
    "decode_content",
    "default_code_lists",
    "default_schema_set",
    "default_validator",
    "fingerprint_sha256",
    "has_severe",
    "issue_client_certificate",
    "issue_seal_certificate",
    "issue_server_certificate",
    "issue_signing_certificate",
    "load_certificate",
    "load_schema_set",
    "parse_content",
    "parse_untrusted",
]
