"""What the registry publishes about an NPPO (GetProfile, GetActiveNppos, GetAvailableChannels)."""

from dataclasses import dataclass, field
from enum import StrEnum


class RuleType(StrEnum):
    FORWARD = "FORWARD"
    DELEGATE = "DELEGATE"


class Direction(StrEnum):
    OUT = "OUT"
    INC = "INC"


class DeliveryMode(StrEnum):
    PULL = "pull"
    PUSH = "push"


class ContentSignaturePolicy(StrEnum):
    """What the hub does with an NPPO's own XMLDSig signature inside its certificates.

    ``none``: not looked at (a signature the NPPO adds is passed on, unchecked);
    ``optional``: unsigned content is accepted, a signature present must verify against one of the
    NPPO's registered signing certificates; ``required``: content must be signed, and verify.
    """

    NONE = "none"
    OPTIONAL = "optional"
    REQUIRED = "required"


@dataclass(frozen=True, kw_only=True, slots=True)
class AllowedDocumentInfo:
    certificate_type: int
    certificate_type_name: str | None
    certificate_status: int
    certificate_status_name: str | None
    active: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class SigningCertificateInfo:
    dn: str
    #: Base64 of the DER certificate, as the live hub publishes it.
    certificate: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ChannelRuleInfo:
    id: int
    active: bool
    rule_type: RuleType
    certificate_type: int
    certificate_status: int
    country_code: str
    direction: Direction


@dataclass(frozen=True, kw_only=True, slots=True)
class NppoProfile:
    code: str
    name: str
    is_channel: bool
    can_send: bool
    can_receive: bool
    delivery_mode: DeliveryMode
    allowed_documents: tuple[AllowedDocumentInfo, ...] = field(default=())
    signature: SigningCertificateInfo | None = None
    channel_rules: tuple[ChannelRuleInfo, ...] = field(default=())


@dataclass(frozen=True, kw_only=True, slots=True)
class ChannelInfo:
    code: str
    name: str
    receive: bool
    send: bool
