"""The hub's domain errors: one tree, rendered twice.

Services raise these; the SOAP face renders a `HubWebException` fault with `message`, the REST
face renders problem+json with `status`, `code`, `detail` and `field`. Expected failures are 4xx,
never 500. Core errors (`ephyto_core.EphytoError`: unsafe or malformed XML, bad content encoding)
are rendered the same way, as 400 / client faults.
"""

from ephyto_core._errors import EphytoError


class HubError(EphytoError):
    status = 400
    code = "bad_request"


class InvalidRequest(HubError):
    """The request is well-formed but a field is missing or wrong."""

    status = 422
    code = "invalid_request"


class NotAuthenticated(HubError):
    """No usable client certificate: missing, unknown, expired or revoked."""

    status = 401
    code = "not_authenticated"


class Forbidden(HubError):
    """Authenticated, but the NPPO may not do this (e.g. send as another NPPO)."""

    status = 403
    code = "forbidden"


class NotFound(HubError):
    """Unknown, or not visible to the caller (we never reveal which of the two)."""

    status = 404
    code = "not_found"


class Conflict(HubError):
    """The request contradicts the envelope's state (e.g. acknowledging twice, differently)."""

    status = 409
    code = "conflict"


class PayloadTooLarge(HubError):
    status = 413
    code = "payload_too_large"


class DeliveryRefused(InvalidRequest):
    """The hub will not accept this submission (header, content or rule error).

    The SOAP face answers it the way the live hub does: an `EnvelopeHeader` with
    `HUBTrackingInfo=FailedDelivery` and the reason in `hubDeliveryErrorMessage`, not a fault.
    The REST face answers 422 problem+json. Nothing is stored either way.
    """

    code = "delivery_refused"
