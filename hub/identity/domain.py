"""Who is calling, as established from the transport."""

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True, slots=True)
class AuthenticatedNppo:
    code: str
    #: SHA-256 fingerprint of the client certificate that authenticated this request.
    certificate_fingerprint: str
    is_channel: bool = False
