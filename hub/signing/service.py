"""What the envelope lifecycle asks of signing, and what the faces hand out.

``EnvelopeService`` calls :meth:`check_content` before validating a submission, :meth:`seal`
once the envelope (and its copies) are stored, and :meth:`issue_receipt` when the box owner
acknowledges; the SOAP and REST faces fetch seals and receipts with :meth:`seals`,
:meth:`seal_for` and :meth:`receipt_for`. Like every service it only flushes: a seal is
committed with the envelope it seals, or not at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from cryptography import x509
from lxml import etree
from sqlalchemy.ext.asyncio import AsyncSession

from ephyto_core._pki import IssuedCertificate
from hub.database import utcnow
from hub.envelopes.models import EnvelopeRecord
from hub.errors import NotFound
from hub.identity.domain import AuthenticatedNppo
from hub.nppos.registry import NppoEntry
from hub.signing import repository
from hub.signing.content import ContentCheck, check_content_signature
from hub.signing.receipts import ReceiptFacts, make_receipt
from hub.signing.seal import SealFacts, make_seal


class SigningService:
    def __init__(self, *, seal: IssuedCertificate, clock: Callable[[], datetime] = utcnow) -> None:
        self._seal = seal
        self._clock = clock

    @property
    def seal_key(self) -> IssuedCertificate:
        return self._seal

    @property
    def seal_certificate(self) -> x509.Certificate:
        """The certificate anyone verifies the hub's seals and receipts with (it is public)."""
        return self._seal.certificate

    async def check_content(
        self, session: AsyncSession, *, sender: NppoEntry, root: etree._Element
    ) -> ContentCheck:
        return await check_content_signature(session, sender=sender, root=root, now=self._clock())

    async def seal(
        self,
        session: AsyncSession,
        records: Sequence[EnvelopeRecord],
        *,
        content_signed_by: str | None = None,
    ) -> dict[str, bytes]:
        """Seal freshly stored envelopes (their ids must be flushed); the seals by number."""
        seals: dict[str, bytes] = {}
        for record in records:
            document = self.seal_document(record, content_signed_by=content_signed_by)
            repository.add_seal(
                session, envelope_id=record.id, document=document, created_at=record.created_at
            )
            seals[record.hub_delivery_number] = document
        await session.flush()
        return seals

    def seal_document(
        self, record: EnvelopeRecord, *, content_signed_by: str | None = None
    ) -> bytes:
        """The seal of an envelope about to be stored (its id is not part of it)."""
        return make_seal(
            SealFacts(
                hub_delivery_number=record.hub_delivery_number,
                kind=record.kind,
                from_code=record.from_code,
                to_code=record.to_code,
                box_code=record.box_code,
                certificate_type=record.certificate_type,
                certificate_status=record.certificate_status,
                nppo_certificate_number=record.nppo_certificate_number,
                accepted_at=record.created_at,
                content_sha256=record.content_sha256,
                content_signed_by=content_signed_by,
            ),
            self._seal,
        )

    async def issue_receipt(self, session: AsyncSession, record: EnvelopeRecord) -> None:
        """The signed proof of delivery, for an envelope its box owner just acknowledged."""
        await self.issue_receipts(session, [record])

    async def issue_receipts(
        self, session: AsyncSession, records: Sequence[EnvelopeRecord]
    ) -> None:
        """Receipts for several just-acknowledged envelopes: one read of their seals, one flush."""
        seals = await repository.seals_by_envelope_id(session, [r.id for r in records])
        for record in records:
            repository.add_receipt(
                session, envelope_id=record.id, document=self._receipt(record, seals.get(record.id))
            )
        await session.flush()

    def _receipt(self, record: EnvelopeRecord, seal: bytes | None) -> bytes:
        return make_receipt(
            ReceiptFacts(
                hub_delivery_number=record.hub_delivery_number,
                from_code=record.from_code,
                to_code=record.to_code,
                box_code=record.box_code,
                certificate_type=record.certificate_type,
                certificate_status=record.certificate_status,
                nppo_certificate_number=record.nppo_certificate_number,
                content_sha256=record.content_sha256,
                seal_sha256=hashlib.sha256(seal).hexdigest() if seal is not None else None,
                accepted_at=record.created_at,
                acknowledged_by=record.box_code,
                acknowledged_at=record.finished_at or self._clock(),
                tracking_info=record.tracking_state,
                message=record.error_message,
            ),
            self._seal,
        )

    async def seals(
        self,
        session: AsyncSession,
        numbers: Sequence[str],
        *,
        known: Mapping[str, bytes] | None = None,
    ) -> list[bytes]:
        """The seals of these envelopes, in the order given; numbers without one are skipped.
        ``known`` seals (those a submission just made) are not read again."""
        known = known or {}
        missing = [n for n in numbers if n not in known]
        found = {**known, **(await self.seals_by_number(session, missing) if missing else {})}
        return [found[n] for n in dict.fromkeys(numbers) if n in found]

    async def seals_by_number(
        self, session: AsyncSession, numbers: Sequence[str]
    ) -> dict[str, bytes]:
        return await repository.seals_by_number(session, numbers)

    async def seal_for(
        self, session: AsyncSession, *, caller: AuthenticatedNppo, number: str
    ) -> bytes:
        """An envelope's seal, for its sender or the owner of the box it waits in."""
        record = await self._visible(session, caller=caller, number=number)
        seal = await repository.seal_of(session, record.id)
        if seal is None:
            raise NotFound(f"envelope {number} has no seal", field="number")
        return seal

    async def receipt_for(
        self, session: AsyncSession, *, caller: AuthenticatedNppo, number: str
    ) -> bytes:
        """An envelope's delivery receipt; NotFound until the receiver has acknowledged it."""
        record = await self._visible(session, caller=caller, number=number)
        receipt = await repository.receipt_of(session, record.id)
        if receipt is None:
            raise NotFound(
                f"envelope {number} has not been acknowledged by its receiver yet",
                field="number",
            )
        return receipt

    async def receipt_if_any(self, session: AsyncSession, record_number: str) -> bytes | None:
        record = await repository.envelope_by_number(session, record_number)
        return None if record is None else await repository.receipt_of(session, record.id)

    async def _visible(
        self, session: AsyncSession, *, caller: AuthenticatedNppo, number: str
    ) -> EnvelopeRecord:
        record = await repository.envelope_by_number(session, number.strip())
        if record is None or caller.code not in (record.from_code, record.box_code):
            raise NotFound(f"no envelope {number} visible to {caller.code}", field="number")
        return record
