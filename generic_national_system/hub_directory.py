"""What GeNS knows about the hub beyond one call: who is on it, and which seal certificate to trust.

The participant list changes when the IPPC registers an NPPO, so it is kept for a few minutes
(every certificate page that can be sent shows it). The seal certificate is the pinned file when
one is configured (`EPHYTO_GENS_HUB_SEAL_CERT`: then a hub that was impersonated still cannot
forge a seal), else what the hub publishes, trusted as far as the verified TLS channel.
"""

import time
from pathlib import Path

from cryptography import x509

from ephyto_core._pki import load_certificate
from generic_national_system.hub_client import HubClient, Participant

#: Long enough that a busy page does not call the hub each time, short enough that a newly
#: registered NPPO appears within minutes.
DIRECTORY_TTL_SECONDS = 300.0


class HubDirectory:
    def __init__(self, *, pinned_seal_certificate: Path | None = None) -> None:
        self._pinned = pinned_seal_certificate
        self._participants: list[Participant] | None = None
        self._fetched_at = 0.0

    async def participants(self, hub: HubClient) -> list[Participant]:
        """The hub's NPPOs and channels, at most `DIRECTORY_TTL_SECONDS` old."""
        now = time.monotonic()
        if self._participants is None or now - self._fetched_at > DIRECTORY_TTL_SECONDS:
            self._participants = await hub.directory()
            self._fetched_at = now
        return self._participants

    async def participant(self, hub: HubClient, code: str) -> Participant | None:
        for participant in await self.participants(hub):
            if participant.code == code:
                return participant
        return None

    async def seal_certificate_pem(self, hub: HubClient) -> bytes:
        if self._pinned is not None:
            return self._pinned.read_bytes()
        return await hub.seal_certificate()

    @staticmethod
    def certificate(pem: bytes | str) -> x509.Certificate:
        return load_certificate(pem)
