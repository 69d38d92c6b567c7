"""The REST face's JSON shapes: what clients send and what they get back.

Separate from the domain types (`hub.envelopes.domain`) and the tables, so the wire can keep its
names (`from`, snake_case) while the services keep theirs. Inputs are strict: numbers must be JSON
numbers, flags JSON booleans, unknown fields are refused (a misspelt `form` is an error, not a
silently missing `from`), and free text may not carry characters no database or XML can hold.
"""

import base64
import binascii
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from ephyto_core._validation_result import Area, Level
from hub.envelopes import domain
from hub.envelopes.domain import EnvelopeKind, TrackingState
from hub.nppos.domain import DeliveryMode, Direction, RuleType

# ----------------------------------------------------------------------------- field types

#: An NPPO or channel code as the registry accepts it: 1-16 letters, digits or '-'.
NppoCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9-]{1,16}$"),
    Field(examples=["KE"]),
]

#: A hub delivery number. The hub issues UUIDs; the column holds 40 characters.
DeliveryNumber = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,40}$"),
    Field(examples=["3f6c1d52-8a0e-4f43-9b8e-2d5c8f0a7e11"]),
]

#: UN/CEFACT document name (1001) and message function (1225) codes are at most three digits.
DocumentCode = Annotated[int, Field(strict=True, ge=0, le=999)]


def _storable_text(value: str) -> str:
    """Refuse what PostgreSQL text and XML cannot hold: NUL and lone surrogates."""
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"contains a lone surrogate (U+{ord(value[exc.start]):04X}), which is not a character"
        ) from None
    return value


def _single_line(value: str) -> str:
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise ValueError("must be one line of text without control characters")
    return value


def _from_base64(value: object) -> object:
    if not isinstance(value, str):
        return value  # the bytes validation names the wrong type
    # Line breaks are allowed: MIME wraps base64 at 76 characters.
    compact = "".join(value.split())
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"is not valid base64 ({exc})") from None


#: Bytes that travel as strict base64 (whitespace between characters allowed).
Base64Document = Annotated[
    bytes,
    BeforeValidator(_from_base64),
    WithJsonSchema({"type": "string", "contentEncoding": "base64"}),
]

StorableText = Annotated[str, AfterValidator(_storable_text)]
SingleLine = Annotated[str, AfterValidator(_storable_text), AfterValidator(_single_line)]

_IN = ConfigDict(extra="forbid")
#: Outputs are built from domain objects (by field name or attribute) and sent by alias (`from`).
_OUT = ConfigDict(validate_by_name=True, validate_by_alias=True, from_attributes=True)


# ----------------------------------------------------------------------------- envelopes


class Forwarding(BaseModel):
    model_config = _OUT

    code: str
    hub_delivery_number: str | None = Field(
        description="The copy's own delivery number, set by the hub."
    )


class EnvelopeHeader(BaseModel):
    """An envelope's routing header and where it stands."""

    # Spelt out, not `_OUT`: the pydantic mypy plugin reads only a literal ConfigDict.
    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True, from_attributes=True)

    from_: str = Field(alias="from", description="Sending NPPO code.")
    to: str = Field(description="Destination NPPO code.")
    certificate_type: int = Field(description="851 phytosanitary, 657 re-export.")
    certificate_status: int = Field(description="70 issued, 40 withdrawn.")
    nppo_certificate_number: str
    hub_delivery_number: str | None
    tracking_info: TrackingState | None = Field(description="The contract's HUBTrackingInfo.")
    error_message: str | None = Field(
        description="Why the delivery failed, or the importer's warning or failure message."
    )
    forwardings: list[Forwarding] = Field(
        description="Copies the sender asked for, each with its own delivery number."
    )

    @classmethod
    def of(cls, header: domain.EnvelopeHeader) -> "EnvelopeHeader":
        return cls(
            from_=header.from_code,
            to=header.to_code,
            certificate_type=header.certificate_type,
            certificate_status=header.certificate_status,
            nppo_certificate_number=header.nppo_certificate_number,
            hub_delivery_number=header.hub_delivery_number,
            tracking_info=header.tracking_info,
            error_message=header.error_message,
            forwardings=[
                Forwarding(code=f.code, hub_delivery_number=f.hub_delivery_number)
                for f in header.forwardings
            ],
        )


_SEAL = (
    "The hub's seal: a standalone XML document with an enveloped XMLDSig signature by the hub, "
    "stating the delivery number, header, acceptance time and the SHA-256 of the document "
    "exactly as stored (`xmlsec1 --verify --trusted-pem <CA> seal.xml` checks it)."
)


class SubmittedEnvelopeHeader(EnvelopeHeader):
    """The header of an accepted envelope, with the hub's seal of it."""

    seal: str | None = Field(default=None, description=_SEAL)

    @classmethod
    def sealed(cls, header: domain.EnvelopeHeader, seal: bytes | None) -> "SubmittedEnvelopeHeader":
        fields = EnvelopeHeader.of(header).model_dump()
        return cls.model_validate({**fields, "seal": seal.decode("utf-8") if seal else None})


class SignedDocument(BaseModel):
    """A seal or delivery receipt: a signed XML document, exactly as the hub stored it."""

    model_config = _OUT

    hub_delivery_number: str
    document: str = Field(description="The XML document with the hub's enveloped signature.")


class SealCertificate(BaseModel):
    """The certificate the hub signs seals, receipts and evidence checkpoints with."""

    model_config = _OUT

    subject: str
    fingerprint_sha256: str
    not_before: datetime
    not_after: datetime
    pem: str


class Envelope(BaseModel):
    """A pulled envelope: the header and the document it carries."""

    model_config = _OUT

    header: EnvelopeHeader
    kind: EnvelopeKind = Field(
        description="`certificate` (an SPSCertificate) or `country_response` "
        "(an SPSAcknowledgement from the importer)."
    )
    content_encoding: Literal["text", "base64"] = Field(
        description="`text`: `content` is the XML document itself. `base64`: the stored bytes "
        "are not UTF-8 (a sender's own encoding, kept exactly as accepted), so `content` is "
        "their base64."
    )
    content: str
    seal: str | None = Field(default=None, description=_SEAL)

    @classmethod
    def of(cls, envelope: domain.Envelope, *, seal: bytes | None = None) -> "Envelope":
        sealed = seal.decode("utf-8") if seal is not None else None
        try:
            return cls(
                header=EnvelopeHeader.of(envelope.header),
                kind=envelope.kind,
                content_encoding="text",
                content=envelope.content.decode("utf-8"),
                seal=sealed,
            )
        except UnicodeDecodeError:
            return cls(
                header=EnvelopeHeader.of(envelope.header),
                kind=envelope.kind,
                content_encoding="base64",
                content=base64.b64encode(envelope.content).decode("ascii"),
                seal=sealed,
            )


class EnvelopeSubmission(BaseModel):
    """A certificate to deliver: the XML as `content`, or base64-encoded as `content_base64`."""

    model_config = _IN

    from_: NppoCode = Field(
        alias="from",
        description="Must be the caller (or a country the calling channel may send for).",
    )
    to: NppoCode
    certificate_type: DocumentCode = Field(description="851 phytosanitary, 657 re-export.")
    certificate_status: DocumentCode = Field(description="70 issued, 40 withdrawal.")
    nppo_certificate_number: SingleLine = Field(description="Must equal the certificate's ID.")
    # More cc targets than there are countries (ISO 3166-1 lists 249) is never a real need, and
    # each target costs the hub a look-up.
    forwardings: list[NppoCode] = Field(
        default_factory=list,
        max_length=249,
        description="NPPO codes that get a copy, each with its own delivery number.",
    )
    content: StorableText | None = Field(
        default=None, description="The rsm:SPSCertificate document as a string."
    )
    content_base64: Base64Document | None = Field(
        default=None, description="The document's bytes, base64-encoded (any XML encoding)."
    )
    validate_first: StrictBool = Field(
        default=True,
        description="Refuse the submission when validation finds a SEVERE problem "
        "(the contract's ValidateAndDeliverEnvelope). False stores what parses safely.",
    )

    @model_validator(mode="after")
    def _exactly_one_content(self) -> "EnvelopeSubmission":
        if (self.content is None) == (self.content_base64 is None):
            raise ValueError("give the certificate in exactly one of content or content_base64")
        return self

    @property
    def document(self) -> str | bytes:
        """The XML to hand to the service: the text as given, or the decoded bytes."""
        if self.content is not None:
            return self.content
        assert self.content_base64 is not None
        return self.content_base64


class CountryResponseSubmission(BaseModel):
    """The importer's SPSAcknowledgement about a certificate it received, back to the exporter."""

    model_config = _IN

    from_: NppoCode = Field(alias="from", description="The importer: must be the caller.")
    to: NppoCode = Field(description="The exporter that sent the certificate.")
    certificate_type: DocumentCode
    certificate_status: DocumentCode
    nppo_certificate_number: SingleLine = Field(
        description="The number of the certificate answered."
    )
    acknowledgement: StorableText = Field(
        description="The SPSAcknowledgement document as a string (or its base64)."
    )


class Acknowledgement(BaseModel):
    """What the receiver made of a pulled envelope."""

    model_config = _IN

    kind: Literal["ok", "with_warnings", "failed"] = Field(
        description="`ok` -> Delivered; `with_warnings` -> DeliveredWithWarnings (message "
        "required); `failed` -> DeliveredNotReadable (message required)."
    )
    message: StorableText | None = Field(
        default=None, description="The warnings, or why the envelope could not be read."
    )

    def of_envelope(self, number: str) -> domain.AcknowledgementRequest:
        """What the service is asked, for the envelope ``number``."""
        return domain.AcknowledgementRequest(
            number=number, kind=domain.AcknowledgementKind(self.kind), message=self.message
        )


class HistoryEntry(BaseModel):
    model_config = _OUT

    at: datetime
    event: str
    tracking_state: TrackingState | None
    actor: str
    detail: str | None


# ----------------------------------------------------------------------------- validation


class ValidationRequest(BaseModel):
    model_config = _IN

    xml: StorableText = Field(description="The certificate XML document.")


class ValidationFinding(BaseModel):
    """One finding of the hub's validation (the contract's ValidationResult)."""

    model_config = _OUT

    area: Area
    level: Level = Field(description="The hub refuses a document with a SEVERE finding.")
    field: str = Field(description="Where: a path such as /rsm:SPSCertificate/rsm:SPSConsignment/…")
    msg: str


# ----------------------------------------------------------------------------- registry


class AllowedDocument(BaseModel):
    model_config = _OUT

    certificate_type: int
    certificate_type_name: str | None
    certificate_status: int
    certificate_status_name: str | None
    active: bool


class SigningCertificate(BaseModel):
    model_config = _OUT

    dn: str
    certificate: str = Field(description="Base64 of the DER certificate.")


class ChannelRule(BaseModel):
    model_config = _OUT

    id: int
    active: bool
    rule_type: RuleType
    certificate_type: int
    certificate_status: int
    country_code: str
    direction: Direction


class NppoProfile(BaseModel):
    """What the registry publishes about an NPPO or channel."""

    model_config = _OUT

    code: str
    name: str
    is_channel: bool
    can_send: bool
    can_receive: bool
    delivery_mode: DeliveryMode
    allowed_documents: list[AllowedDocument]
    signature: SigningCertificate | None = Field(
        description="The signing certificate valid now, for checking its certificates' XML "
        "signatures."
    )
    channel_rules: list[ChannelRule]


class Channel(BaseModel):
    model_config = _OUT

    code: str
    name: str
    receive: bool
    send: bool


class CodeListSummary(BaseModel):
    name: str = Field(examples=["treatment_types"])
    languages: list[str] = Field(description="The languages the list has texts in.")


class CodeRow(BaseModel):
    """One (code, language) row of a harmonised code list."""

    model_config = _OUT

    code: str
    lang: str
    text: str
    active: bool
    last_modified: datetime
    last_modified_by: str
    extra: dict[str, str] = Field(
        description="List-specific columns (e.g. `type` and `symbol` for units)."
    )


# ----------------------------------------------------------------------------- misc


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class ProblemError(BaseModel):
    field: str | None
    reason: str


class Problem(BaseModel):
    """An error, as RFC 9457 problem details (media type application/problem+json)."""

    type: str = Field(description="A URI naming the kind of problem: urn:ephyto:problem:<code>.")
    title: str = Field(description="A short summary of the kind of problem.")
    status: int
    detail: str = Field(description="What went wrong in this request, in plain words.")
    code: str = Field(description="A stable machine-readable code, e.g. delivery_refused.")
    field: str | None = Field(
        default=None, description="The request field (or document path) the problem is about."
    )
    instance: str | None = Field(default=None, description="The request path.")
    errors: list[ProblemError] | None = Field(
        default=None, description="Every invalid field, when the request had several."
    )


# ----------------------------------------------------------------------------- batches


#: Acknowledgements one batch may carry: as many as one pull returns at most.
MAX_ACKNOWLEDGEMENTS_PER_BATCH = 100


class NumberedAcknowledgement(Acknowledgement):
    """One acknowledgement of a batch: which envelope, and what became of it."""

    number: DeliveryNumber = Field(description="The hub delivery number of the envelope.")


class AcknowledgementBatch(BaseModel):
    """Several pulled envelopes acknowledged in one request."""

    model_config = _IN

    acknowledgements: list[NumberedAcknowledgement] = Field(
        min_length=1,
        max_length=MAX_ACKNOWLEDGEMENTS_PER_BATCH,
        description=f"1 to {MAX_ACKNOWLEDGEMENTS_PER_BATCH} acknowledgements, each judged on "
        "its own.",
    )


class AcknowledgementResult(BaseModel):
    """What became of one acknowledgement of a batch: the envelope's header (status 200), or
    the problem that refused it (its status, e.g. 404 or 409), which changed nothing."""

    number: str
    status: int
    header: EnvelopeHeader | None = None
    problem: Problem | None = None


class AcknowledgementBatchResult(BaseModel):
    results: list[AcknowledgementResult] = Field(
        description="One result per acknowledgement, in the order they were sent."
    )
