"""The envelope as the hub's services see it, independent of SOAP, REST or the database.

Both faces translate their wire format into these types, call one service function, and
translate the result back. Names follow the hub contract (`hubDeliveryNumber`, `HUBTrackingInfo`).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class TrackingState(StrEnum):
    """The six `HUBTrackingInfo` values of the live hub, with their contract meaning."""

    PENDING_DELIVERY = "PendingDelivery"  # in the destination's box, waiting for pull/push + ack
    DELIVERED = "Delivered"  # importer acknowledged
    DELIVERED_WITH_WARNINGS = "DeliveredWithWarnings"  # acknowledged with a warning message
    FAILED_DELIVERY = "FailedDelivery"  # refused by the hub, or push gave up; see error message
    ENVELOPE_NOT_EXISTS = "EnvelopeNotExists"  # unknown number (never stored, only answered)
    DELIVERED_NOT_READABLE = "DeliveredNotReadable"  # importer could not read the content

    @property
    def is_final(self) -> bool:
        return self is not TrackingState.PENDING_DELIVERY


@dataclass(frozen=True, kw_only=True, slots=True)
class AcknowledgementRequest:
    """One acknowledgement of a batch (``EnvelopeService.acknowledge_many``)."""

    number: str
    kind: "AcknowledgementKind"
    message: str | None = None


class EnvelopeKind(StrEnum):
    CERTIFICATE = "certificate"  # an SPSCertificate (DeliverEnvelope & co.)
    COUNTRY_RESPONSE = "country_response"  # an SPSAcknowledgement back to the exporter


class AcknowledgementKind(StrEnum):
    OK = "ok"
    WITH_WARNINGS = "with_warnings"
    FAILED = "failed"


@dataclass(frozen=True, kw_only=True, slots=True)
class Forwarding:
    """A cc target named by the sender; the hub fills in the copy's own delivery number."""

    code: str
    hub_delivery_number: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class EnvelopeHeader:
    from_code: str
    to_code: str
    certificate_type: int
    certificate_status: int
    nppo_certificate_number: str
    hub_delivery_number: str | None = None
    tracking_info: TrackingState | None = None
    error_message: str | None = None
    forwardings: tuple[Forwarding, ...] = field(default=())


@dataclass(frozen=True, kw_only=True, slots=True)
class Submission:
    """What a submission produced: the header to answer with, and whether it was new.

    `created` is False when the hub recognised a duplicate and answered with the original.
    """

    header: EnvelopeHeader
    created: bool
    #: The hub's seal of each envelope a new submission stored (original and copies), by
    #: delivery number; empty for a duplicate (its seals are stored with the original).
    seals: Mapping[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class Envelope:
    """A header with its content: the certificate (or acknowledgement) XML, exactly as accepted."""

    header: EnvelopeHeader
    content: bytes
    kind: EnvelopeKind = EnvelopeKind.CERTIFICATE
