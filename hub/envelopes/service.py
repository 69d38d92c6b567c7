"""The envelope lifecycle: submission, boxes, pulls, acknowledgements, tracking.

Rules of the hub contract live here and nowhere else; the SOAP and REST faces only translate.
Services never commit: the caller's unit of work does, so a refused or failed submission leaves
nothing behind.
"""

import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from lxml import etree
from sqlalchemy.ext.asyncio import AsyncSession

from ephyto_core._errors import EphytoError
from ephyto_core._safexml import XmlLimits, decode_content, parse_untrusted
from ephyto_core._validation import Level, ValidationResult, Validator
from hub.database import utcnow
from hub.envelopes import acceptance, repository
from hub.envelopes.content import certificate_facts, is_acknowledgement, is_certificate
from hub.envelopes.domain import (
    AcknowledgementKind,
    AcknowledgementRequest,
    Envelope,
    EnvelopeHeader,
    EnvelopeKind,
    Forwarding,
    Submission,
    TrackingState,
)
from hub.envelopes.models import EnvelopeEvent, EnvelopeRecord
from hub.errors import (
    Conflict,
    DeliveryRefused,
    Forbidden,
    HubError,
    InvalidRequest,
    NotFound,
)
from hub.identity.domain import AuthenticatedNppo
from hub.nppos.domain import Direction, RuleType
from hub.nppos.registry import NppoEntry, Registry, RegistryCache
from hub.routing import outbox
from hub.signing.content import without_root_signature
from hub.signing.service import SigningService

ISSUED = 70
WITHDRAWN = 40
CERTIFICATE_TYPES = frozenset({851, 657})
HUB_ACTOR = "hub"

_ACK_STATES = {
    AcknowledgementKind.OK: TrackingState.DELIVERED,
    AcknowledgementKind.WITH_WARNINGS: TrackingState.DELIVERED_WITH_WARNINGS,
    AcknowledgementKind.FAILED: TrackingState.DELIVERED_NOT_READABLE,
}


@dataclass(frozen=True, kw_only=True, slots=True)
class EnvelopeLimits:
    max_content_bytes: int = 16 * 1024 * 1024
    #: GetImportEnvelopeHeaders and GetUnderDeliveryEnvelope answer at most this many headers,
    #: oldest first; the rest stay listed for the next call.
    max_listed_headers: int = 10_000
    #: PULLImportEnvelope returns at most this many envelopes / bytes per call, oldest first.
    max_pulled_envelopes: int = 100
    max_pulled_bytes: int = 64 * 1024 * 1024


@dataclass(frozen=True, kw_only=True, slots=True)
class HistoryEntry:
    at: datetime
    event: str
    tracking_state: TrackingState | None
    actor: str
    detail: str | None


def new_delivery_number() -> str:
    return str(uuid.uuid4())


class EnvelopeService:
    def __init__(
        self,
        *,
        validator: Validator,
        acknowledgement_schema: etree.XMLSchema,
        limits: EnvelopeLimits = EnvelopeLimits(),
        accepted_statuses: frozenset[int] = frozenset({ISSUED, WITHDRAWN}),
        clock: Callable[[], datetime] = utcnow,
        number_factory: Callable[[], str] = new_delivery_number,
        signing: SigningService | None = None,
        registry: RegistryCache | None = None,
    ) -> None:
        self._validator = validator
        self._acknowledgement_schema = acknowledgement_schema
        self._limits = limits
        self._xml_limits = XmlLimits(max_bytes=limits.max_content_bytes)
        self._accepted_statuses = accepted_statuses
        self._clock = clock
        self._new_number = number_factory
        #: Content signatures, seals and receipts (hub/signing); None only in unit tests.
        self._signing = signing
        self._registry = registry or RegistryCache()

    # ---------------------------------------------------------------- submission

    async def deliver(
        self,
        session: AsyncSession,
        *,
        caller: AuthenticatedNppo,
        header: EnvelopeHeader,
        content: str | bytes,
        validate_first: bool,
    ) -> Submission:
        """Accept a certificate envelope into its destination box(es).

        Raises `DeliveryRefused` (nothing stored) for header, rule and content errors, and
        `Forbidden` when the caller may not send as `From`.
        """
        sender = await self._authorised_sender(session, caller=caller, header=header)
        _check_header_fields(header, accepted_statuses=self._accepted_statuses)
        destination = await self._destination(session, header.to_code)
        _refuse_self_delivery(sender, destination)
        self._load_allowed(sender, destination, header)

        data, root = self._decode_and_parse(content)
        if not is_certificate(root):
            raise DeliveryRefused(
                "Content must be an rsm:SPSCertificate (urn:un:unece:uncefact:data:standard:"
                f"SPSCertificate:17), found {root.tag}",
                field="Content",
            )
        signed_by = None
        if self._signing is not None:
            # Validate and route on what the signature covers, never on the tree that came in.
            checked = await self._signing.check_content(session, sender=sender, root=root)
            root, signed_by = checked.document, checked.signed_by
        results = self._validator.validate(root)
        if validate_first:
            _refuse_on_severe(results)
        facts = certificate_facts(root)
        del root  # the tree is no longer needed; keep one copy of large contents in memory
        _check_consistency(header, facts.certificate_number, facts.type_code, facts.status_code)

        sha = hashlib.sha256(data).hexdigest()
        box = await self._box_for(session, header=header, destination=destination)
        now = self._clock()
        original = self._new_record(
            header=header,
            to_code=destination.code,
            box_code=box,
            content_sha256=sha,
            kind=EnvelopeKind.CERTIFICATE,
            now=now,
        )
        original.replaces_certificate_number = facts.replaces_number
        warnings = sum(1 for r in results if r.level is not Level.INFO)
        seals = await self._store_new(
            session,
            original,
            data=data,
            actor=caller.code,
            detail=f"box {box}; {warnings} validation finding(s)",
            content_signed_by=signed_by,
        )
        if seals is None:
            # Submitted before (or committing concurrently): answer with that one. Nothing was
            # written (the content row is shared, and was there already).
            duplicate = await self._stored_original_of(session, original)
            return Submission(
                header=await self._header_with_copies(session, duplicate), created=False
            )
        # Checks that only a new submission needs; a refusal rolls the insert back with the
        # rest of the transaction.
        if header.certificate_status == WITHDRAWN:
            await self._withdraw_earlier(session, header=header, destination=destination)
        cc_targets = await self._copy_targets(session, header=header, primary_box=box)
        if facts.replaces_number:
            await self._mark_replaced(session, header=header, replacement=original)
            await session.flush()

        copies: list[EnvelopeRecord] = []
        for code, reason in cc_targets:
            copy = self._new_record(
                header=header,
                to_code=destination.code,
                box_code=code,
                content_sha256=sha,
                kind=EnvelopeKind.CERTIFICATE,
                now=now,
                content_id=original.content_id,
            )
            copy.copy_reason = reason
            copy.original_id = original.id
            copies.append(copy)
        if copies:
            session.add_all(copies)
            await session.flush()
            for copy in copies:
                self._event(
                    session,
                    copy,
                    acceptance.ACCEPTED_EVENT,
                    actor=caller.code,
                    detail=copy.copy_reason,
                    now=now,
                )
            outbox.enqueue(session, copies, now=now)
            if self._signing is not None:
                # Its flush writes the copies' events and outbox rows with their seals.
                seals |= await self._signing.seal(session, copies, content_signed_by=signed_by)
            else:
                await session.flush()
        forwardings = tuple(
            Forwarding(code=c.box_code, hub_delivery_number=c.hub_delivery_number)
            for c in copies
            if c.copy_reason == "forwarding"
        )
        return Submission(
            header=_to_header(original, forwardings=forwardings), created=True, seals=seals
        )

    async def deliver_country_response(
        self,
        session: AsyncSession,
        *,
        caller: AuthenticatedNppo,
        header: EnvelopeHeader,
        acknowledgement: str | bytes,
    ) -> Submission:
        """Carry an importer's SPSAcknowledgement back to the exporter's box."""
        await self._authorised_sender(session, caller=caller, header=header)
        if not header.nppo_certificate_number.strip():
            raise DeliveryRefused(
                "NPPOCertificateNumber is required", field="NPPOCertificateNumber"
            )
        destination = await self._destination(session, header.to_code)
        data, root = self._decode_and_parse(acknowledgement, field="SPSAcknowledgement")
        if not is_acknowledgement(root):
            raise DeliveryRefused(
                f"expected an SPSAcknowledgement element, found {root.tag}",
                field="SPSAcknowledgement",
            )
        if not self._acknowledgement_schema.validate(root):
            # lxml's stubs do not declare the log iterable; it is a sequence of _LogEntry.
            errors = cast("Sequence[etree._LogEntry]", self._acknowledgement_schema.error_log)
            error = errors[0]
            raise DeliveryRefused(
                f"SPSAcknowledgement is not valid: {error.message} (line {error.line})",
                field="SPSAcknowledgement",
            )
        answered = await repository.sent_certificates(
            session,
            from_code=destination.code,
            to_code=header.from_code,
            nppo_certificate_number=header.nppo_certificate_number,
            certificate_status=header.certificate_status,
        )
        if not answered:
            raise DeliveryRefused(
                f"no certificate {header.nppo_certificate_number} (status "
                f"{header.certificate_status}) was sent by {destination.code} to "
                f"{header.from_code}; a country response must answer one",
                field="NPPOCertificateNumber",
            )
        now = self._clock()
        record = self._new_record(
            header=header,
            to_code=destination.code,
            box_code=destination.code,
            content_sha256=hashlib.sha256(data).hexdigest(),
            kind=EnvelopeKind.COUNTRY_RESPONSE,
            now=now,
        )
        seals = await self._store_new(
            session, record, data=data, actor=caller.code, detail="country response"
        )
        if seals is None:
            duplicate = await self._stored_original_of(session, record)
            return Submission(header=_to_header(duplicate), created=False)
        for certificate in answered:
            self._event(
                session,
                certificate,
                "country_response",
                actor=caller.code,
                detail=f"answered by {record.hub_delivery_number}",
                now=now,
            )
        await session.flush()
        return Submission(header=_to_header(record), created=True, seals=seals)

    # ---------------------------------------------------------------- the receiver's box

    async def waiting_headers(
        self, session: AsyncSession, *, caller: AuthenticatedNppo, country_code: str | None
    ) -> list[EnvelopeHeader]:
        records = await repository.waiting_in_box(
            session,
            box_code=caller.code,
            to_code=country_code.strip().upper() if country_code else None,
            limit=self._limits.max_listed_headers,
        )
        return [_to_header(r) for r in records]

    async def pull_one(
        self, session: AsyncSession, *, caller: AuthenticatedNppo, delivery_number: str
    ) -> Envelope:
        record = await self._own_box_record(session, caller=caller, number=delivery_number)
        content = await repository.content_bytes(session, record.content_id)
        return self._pulled(session, record, content, caller=caller)

    async def pull_all(self, session: AsyncSession, *, caller: AuthenticatedNppo) -> list[Envelope]:
        waiting = await repository.waiting_with_sizes(
            session, box_code=caller.code, limit=self._limits.max_pulled_envelopes
        )
        chosen: list[EnvelopeRecord] = []
        total = 0
        for record, size in waiting:
            chosen.append(record)
            total += size
            if total >= self._limits.max_pulled_bytes:
                break  # the rest stay listed for the next pull
        # One query for every content (not one per envelope), read only once chosen.
        contents = await repository.contents(session, [r.content_id for r in chosen])
        return [self._pulled(session, r, contents[r.content_id], caller=caller) for r in chosen]

    async def acknowledge(
        self, session: AsyncSession, *, caller: AuthenticatedNppo, delivery_number: str
    ) -> EnvelopeHeader:
        return await self._acknowledge(
            session,
            caller=caller,
            number=delivery_number,
            kind=AcknowledgementKind.OK,
            message=None,
        )

    async def acknowledge_with_warnings(
        self,
        session: AsyncSession,
        *,
        caller: AuthenticatedNppo,
        delivery_number: str,
        warning: str,
    ) -> EnvelopeHeader:
        return await self._acknowledge(
            session,
            caller=caller,
            number=delivery_number,
            kind=AcknowledgementKind.WITH_WARNINGS,
            message=warning,
        )

    async def acknowledge_failed(
        self, session: AsyncSession, *, caller: AuthenticatedNppo, delivery_number: str, reason: str
    ) -> EnvelopeHeader:
        return await self._acknowledge(
            session,
            caller=caller,
            number=delivery_number,
            kind=AcknowledgementKind.FAILED,
            message=reason,
        )

    async def acknowledge_as(
        self, session: AsyncSession, *, caller: AuthenticatedNppo, request: AcknowledgementRequest
    ) -> EnvelopeHeader:
        """Any of the three acknowledgements, as the request names it (the REST face)."""
        return await self._acknowledge(
            session,
            caller=caller,
            number=request.number,
            kind=request.kind,
            message=request.message,
        )

    async def acknowledge_many(
        self,
        session: AsyncSession,
        *,
        caller: AuthenticatedNppo,
        requests: Sequence[AcknowledgementRequest],
    ) -> list[EnvelopeHeader | HubError]:
        """Several acknowledgements in one transaction, each judged on its own, answered in order.

        A refused one (no such envelope in the caller's box, a final state already, a missing
        message) is answered with its error and changes nothing; the others still count. The
        rows are locked in one statement, in id order, so two batches naming the same envelopes
        cannot deadlock; the receipts are made with one read of the seals and one flush.
        """
        numbers = {request.number.strip() for request in requests}
        records = await repository.by_numbers_for_update(session, sorted(numbers - {""}))
        now = self._clock()
        outcomes: list[EnvelopeHeader | HubError] = []
        acknowledged: dict[str, EnvelopeRecord] = {}
        for request in requests:
            try:
                _check_acknowledgement_message(request.kind, request.message)
                number = _required_number(request.number)
                record = _in_box_of(records.get(number), number, caller)
                if self._apply_acknowledgement(
                    session, record, request.kind, request.message, caller=caller, now=now
                ):
                    acknowledged[record.hub_delivery_number] = record
                outcomes.append(_to_header(record))
            except HubError as refusal:
                outcomes.append(refusal)
        await session.flush()
        if self._signing is not None and acknowledged:
            await self._signing.issue_receipts(session, list(acknowledged.values()))
        return outcomes

    async def report_tracking_update(
        self, session: AsyncSession, *, caller: AuthenticatedNppo, header: EnvelopeHeader
    ) -> EnvelopeHeader:
        """SetTrackingInfoUpdate: a push receiver reports what became of a pushed envelope."""
        if not header.hub_delivery_number:
            raise InvalidRequest("hubDeliveryNumber is required", field="hubDeliveryNumber")
        kinds = {
            TrackingState.DELIVERED: AcknowledgementKind.OK,
            TrackingState.DELIVERED_WITH_WARNINGS: AcknowledgementKind.WITH_WARNINGS,
            TrackingState.DELIVERED_NOT_READABLE: AcknowledgementKind.FAILED,
            TrackingState.FAILED_DELIVERY: AcknowledgementKind.FAILED,
        }
        if header.tracking_info not in kinds:
            raise InvalidRequest(
                "HUBTrackingInfo must be Delivered, DeliveredWithWarnings, DeliveredNotReadable "
                "or FailedDelivery",
                field="HUBTrackingInfo",
            )
        kind = kinds[header.tracking_info]
        message = header.error_message or (
            None if kind is AcknowledgementKind.OK else str(header.tracking_info)
        )
        return await self._acknowledge(
            session, caller=caller, number=header.hub_delivery_number, kind=kind, message=message
        )

    # ---------------------------------------------------------------- the sender's view

    async def tracking_info(
        self, session: AsyncSession, *, caller: AuthenticatedNppo, delivery_number: str
    ) -> EnvelopeHeader:
        record = await repository.by_number(session, delivery_number.strip())
        if record is None or record.from_code != caller.code:
            # Unknown and not-yours look the same: the number space is not an oracle.
            return EnvelopeHeader(
                from_code=caller.code,
                to_code="",
                certificate_type=0,
                certificate_status=0,
                nppo_certificate_number="",
                hub_delivery_number=delivery_number,
                tracking_info=TrackingState.ENVELOPE_NOT_EXISTS,
            )
        return await self._header_with_copies(session, record)

    async def under_delivery(
        self, session: AsyncSession, *, caller: AuthenticatedNppo
    ) -> list[EnvelopeHeader]:
        records = await repository.unfinished_from(
            session, from_code=caller.code, limit=self._limits.max_listed_headers
        )
        return [_to_header(r) for r in records]

    async def history(
        self, session: AsyncSession, *, caller: AuthenticatedNppo, delivery_number: str
    ) -> list[HistoryEntry]:
        record = await repository.by_number(session, delivery_number.strip())
        if record is None or caller.code not in (record.from_code, record.box_code):
            raise NotFound(
                f"no envelope {delivery_number} visible to {caller.code}", field="hubDeliveryNumber"
            )
        return [
            HistoryEntry(
                at=e.at,
                event=e.event,
                tracking_state=TrackingState(e.tracking_state) if e.tracking_state else None,
                actor=e.actor,
                detail=e.detail,
            )
            for e in await repository.history(session, record.id)
        ]

    def validate_xml(self, xml: str | bytes) -> list[ValidationResult]:
        # A signed certificate is still a certificate: the ds:Signature at its root is not part
        # of what the schema judges (hub/signing/content.py).
        try:
            root = parse_untrusted(xml, limits=self._xml_limits, field="ePhytoXML")
        except EphytoError:
            return self._validator.validate(xml)  # reported as a finding, as before
        return self._validator.validate(without_root_signature(root))

    # ---------------------------------------------------------------- push delivery (hub/routing)

    async def envelope_for_push(
        self, session: AsyncSession, *, envelope_id: int
    ) -> Envelope | None:
        """The envelope to push to its box's receiver; None once it is final."""
        record = await session.get(EnvelopeRecord, envelope_id)
        if record is None or TrackingState(record.tracking_state).is_final:
            return None
        content = await repository.content_bytes(session, record.content_id)
        return Envelope(header=_to_header(record), content=content, kind=EnvelopeKind(record.kind))

    async def record_push_outcome(
        self,
        session: AsyncSession,
        *,
        delivery_number: str,
        state: TrackingState,
        message: str | None,
        actor: str,
    ) -> EnvelopeHeader:
        """A push receiver's answer (actor: its code), or the hub giving up (actor: hub),
        becomes the envelope's final state. A state that is final already is kept."""
        record = await repository.by_number_for_update(session, delivery_number)
        if record is None:
            raise NotFound(f"no envelope {delivery_number}", field="hubDeliveryNumber")
        if TrackingState(record.tracking_state).is_final:
            return _to_header(record)
        now = self._clock()
        record.tracking_state = state.value
        record.error_message = message
        record.updated_at = now
        record.finished_at = now
        self._event(
            session,
            record,
            "push_failed" if actor == HUB_ACTOR else "pushed",
            actor=actor,
            detail=message,
            now=now,
        )
        await session.flush()
        if self._signing is not None and actor != HUB_ACTOR:
            # The receiver's own answer is its acknowledgement: the exporter's proof of delivery.
            await self._signing.issue_receipt(session, record)
        return _to_header(record)

    # ---------------------------------------------------------------- internals

    async def _store_new(
        self,
        session: AsyncSession,
        record: EnvelopeRecord,
        *,
        data: bytes,
        actor: str,
        detail: str,
        content_signed_by: str | None = None,
    ) -> dict[str, bytes] | None:
        """Store a new envelope with its content, "accepted" event, outbox row and seal
        (hub/envelopes/acceptance.py): its seal by number, or None when the same submission is
        stored already, and then nothing was written."""
        seal = None
        if self._signing is not None:
            seal = self._signing.seal_document(record, content_signed_by=content_signed_by)
        stored = await acceptance.store_accepted(
            session,
            record,
            acceptance.Acceptance(data=data, actor=actor, detail=detail, seal=seal),
        )
        if not stored:
            return None
        return {record.hub_delivery_number: seal} if seal is not None else {}

    async def _stored_original_of(
        self, session: AsyncSession, record: EnvelopeRecord
    ) -> EnvelopeRecord:
        """The submission stored before that ``record`` repeats (the duplicate rule's index
        refused ``record``)."""
        duplicate = await repository.find_submission(
            session,
            kind=record.kind,
            from_code=record.from_code,
            to_code=record.to_code,
            nppo_certificate_number=record.nppo_certificate_number,
            certificate_status=record.certificate_status,
            content_sha256=record.content_sha256,
        )
        if duplicate is None:  # the index refused it, so it exists: only a bug gets here
            raise Conflict(
                "the same submission is being stored; send it again",
                field="NPPOCertificateNumber",
            )
        return duplicate

    async def _authorised_sender(
        self, session: AsyncSession, *, caller: AuthenticatedNppo, header: EnvelopeHeader
    ) -> NppoEntry:
        from_code = header.from_code.strip().upper()
        if not from_code:
            raise DeliveryRefused("From is required", field="From")
        registry = await self._registry.current(session)
        if from_code != caller.code and not _delegates_sending(
            registry, caller=caller, header=header
        ):
            raise Forbidden(
                f"From is {from_code} but the client certificate belongs to {caller.code}",
                field="From",
            )
        sender = registry.nppo(from_code)
        if sender is None or not sender.active:
            raise DeliveryRefused(
                f"sender {from_code} is not an active hub participant", field="From"
            )
        if not sender.can_send:
            raise DeliveryRefused(
                f"{from_code} is not allowed to send through the hub", field="From"
            )
        return sender

    async def _destination(self, session: AsyncSession, to_code: str) -> NppoEntry:
        code = to_code.strip().upper()
        if not code:
            raise DeliveryRefused("To is required", field="To")
        destination = (await self._registry.current(session)).nppo(code)
        if destination is None or not destination.active:
            raise DeliveryRefused(f"destination {code} is not registered on the hub", field="To")
        if not destination.can_receive:
            raise DeliveryRefused(
                f"destination {code} does not receive through the hub", field="To"
            )
        return destination

    @staticmethod
    def _load_allowed(sender: NppoEntry, destination: NppoEntry, header: EnvelopeHeader) -> None:
        """Refuse a (type, status) pair the sender may not send or the destination not receive."""
        pair = (header.certificate_type, header.certificate_status)
        for party, role in ((sender, "send"), (destination, "receive")):
            if pair not in party.allowed:
                raise DeliveryRefused(
                    f"{party.code} is not registered to {role} certificate type "
                    f"{pair[0]} with status {pair[1]}",
                    field="CertificateType",
                )

    def _decode_and_parse(
        self, content: str | bytes, *, field: str = "Content"
    ) -> tuple[bytes, etree._Element]:
        try:
            data = decode_content(content, limits=self._xml_limits, field=field)
            root = parse_untrusted(data, limits=self._xml_limits, field=field)
        except EphytoError as exc:
            raise DeliveryRefused(exc.message, field=exc.field or field) from exc
        return data, root

    async def _withdraw_earlier(
        self, session: AsyncSession, *, header: EnvelopeHeader, destination: NppoEntry
    ) -> None:
        issued = await repository.sent_certificates(
            session,
            from_code=header.from_code,
            to_code=destination.code,
            nppo_certificate_number=header.nppo_certificate_number,
            certificate_status=ISSUED,
        )
        if not issued:
            raise DeliveryRefused(
                f"no certificate {header.nppo_certificate_number} was issued by "
                f"{header.from_code} to {destination.code}; there is nothing to withdraw",
                field="NPPOCertificateNumber",
            )

    async def _mark_replaced(
        self, session: AsyncSession, *, header: EnvelopeHeader, replacement: EnvelopeRecord
    ) -> None:
        assert replacement.replaces_certificate_number is not None
        replaced = await repository.sent_certificates(
            session,
            from_code=header.from_code,
            to_code=None,
            nppo_certificate_number=replacement.replaces_certificate_number,
            certificate_status=ISSUED,
        )
        for earlier in replaced:
            if earlier.replaced_by is None:
                earlier.replaced_by = replacement.hub_delivery_number
                self._event(
                    session,
                    earlier,
                    "replaced",
                    actor=header.from_code,
                    detail=f"replaced by {replacement.hub_delivery_number}",
                    now=replacement.created_at,
                )

    async def _box_for(
        self, session: AsyncSession, *, header: EnvelopeHeader, destination: NppoEntry
    ) -> str:
        """The destination's own box, or its delegate's when a DELEGATE INC rule applies."""
        delegates = (await self._registry.current(session)).channels_with_rule(
            rule_type=RuleType.DELEGATE.value,
            country_code=destination.code,
            direction=Direction.INC.value,
            certificate_type=header.certificate_type,
            certificate_status=header.certificate_status,
        )
        return delegates[0].code if delegates else destination.code

    async def _copy_targets(
        self, session: AsyncSession, *, header: EnvelopeHeader, primary_box: str
    ) -> list[tuple[str, str]]:
        """(box, reason) for each copy: the sender's Forwardings, then FORWARD channel rules."""
        targets: dict[str, str] = {}
        registry = await self._registry.current(session)
        # One look-up per distinct code: the SOAP contract puts no bound on Forwardings.
        for code in dict.fromkeys(f.code.strip().upper() for f in header.forwardings):
            target = registry.nppo(code)
            if target is None or not target.active or not target.can_receive:
                raise DeliveryRefused(
                    f"forwarding target {code or '(empty)'} is not registered to receive",
                    field="Forwardings",
                )
            targets.setdefault(code, "forwarding")
        for country, direction in (
            (header.from_code.upper(), Direction.OUT),
            (header.to_code.strip().upper(), Direction.INC),
        ):
            channels = registry.channels_with_rule(
                rule_type=RuleType.FORWARD.value,
                country_code=country,
                direction=direction.value,
                certificate_type=header.certificate_type,
                certificate_status=header.certificate_status,
            )
            for channel in channels:
                if channel.can_receive:
                    targets.setdefault(channel.code, "forward_rule")
        targets.pop(primary_box, None)
        return list(targets.items())

    def _new_record(
        self,
        *,
        header: EnvelopeHeader,
        to_code: str,
        box_code: str,
        content_sha256: str,
        kind: EnvelopeKind,
        now: datetime,
        content_id: int | None = None,
    ) -> EnvelopeRecord:
        """A new envelope; ``content_id`` None when storing it stores its content too."""
        return EnvelopeRecord(
            hub_delivery_number=self._new_number(),
            kind=kind.value,
            from_code=header.from_code.strip().upper(),
            to_code=to_code,
            box_code=box_code,
            certificate_type=header.certificate_type,
            certificate_status=header.certificate_status,
            nppo_certificate_number=header.nppo_certificate_number.strip(),
            tracking_state=TrackingState.PENDING_DELIVERY.value,
            content_id=content_id,
            content_sha256=content_sha256,
            pull_count=0,
            created_at=now,
            updated_at=now,
        )

    def _event(
        self,
        session: AsyncSession,
        record: EnvelopeRecord,
        event: str,
        *,
        actor: str,
        detail: str | None = None,
        now: datetime | None = None,
    ) -> None:
        session.add(
            EnvelopeEvent(
                envelope_id=record.id,
                at=now or self._clock(),
                event=event,
                tracking_state=record.tracking_state,
                actor=actor,
                detail=detail,
            )
        )

    async def _own_box_record(
        self, session: AsyncSession, *, caller: AuthenticatedNppo, number: str
    ) -> EnvelopeRecord:
        number = _required_number(number)
        return _in_box_of(await repository.by_number(session, number), number, caller)

    def _pulled(
        self,
        session: AsyncSession,
        record: EnvelopeRecord,
        content: bytes,
        *,
        caller: AuthenticatedNppo,
    ) -> Envelope:
        record.pull_count += 1
        self._event(session, record, "pulled", actor=caller.code)
        return Envelope(header=_to_header(record), content=content, kind=EnvelopeKind(record.kind))

    async def _acknowledge(
        self,
        session: AsyncSession,
        *,
        caller: AuthenticatedNppo,
        number: str,
        kind: AcknowledgementKind,
        message: str | None,
    ) -> EnvelopeHeader:
        """One acknowledgement: a batch of one, its refusal raised."""
        request = AcknowledgementRequest(number=number, kind=kind, message=message)
        [outcome] = await self.acknowledge_many(session, caller=caller, requests=[request])
        if isinstance(outcome, HubError):
            raise outcome
        return outcome

    def _apply_acknowledgement(
        self,
        session: AsyncSession,
        record: EnvelopeRecord,
        kind: AcknowledgementKind,
        message: str | None,
        *,
        caller: AuthenticatedNppo,
        now: datetime | None = None,
    ) -> bool:
        """Move a pending envelope to the acknowledged state; False when this exact
        acknowledgement was made before (a replay changes nothing). Raises `Conflict` for an
        envelope already in another final state."""
        target = _ACK_STATES[kind]
        current = TrackingState(record.tracking_state)
        if current is target and record.error_message == message:
            return False
        if current is not TrackingState.PENDING_DELIVERY:
            raise Conflict(
                f"envelope {record.hub_delivery_number} is already {current.value}; "
                "an acknowledgement cannot change a final state",
                field="hubTrackingNumber",
            )
        now = now or self._clock()
        record.tracking_state = target.value
        record.error_message = message
        record.updated_at = now
        record.finished_at = now
        self._event(
            session,
            record,
            f"acknowledged_{kind.value}",
            actor=caller.code,
            detail=message,
            now=now,
        )
        return True

    async def _header_with_copies(
        self, session: AsyncSession, record: EnvelopeRecord
    ) -> EnvelopeHeader:
        copies = await repository.copies_of(session, record.id)
        forwardings = tuple(
            Forwarding(code=c.box_code, hub_delivery_number=c.hub_delivery_number)
            for c in copies
            if c.copy_reason == "forwarding"
        )
        return _to_header(record, forwardings=forwardings)


def _to_header(record: EnvelopeRecord, *, forwardings: Sequence[Forwarding] = ()) -> EnvelopeHeader:
    return EnvelopeHeader(
        from_code=record.from_code,
        to_code=record.to_code,
        certificate_type=record.certificate_type,
        certificate_status=record.certificate_status,
        nppo_certificate_number=record.nppo_certificate_number,
        hub_delivery_number=record.hub_delivery_number,
        tracking_info=TrackingState(record.tracking_state),
        error_message=record.error_message,
        forwardings=tuple(forwardings),
    )


def _required_number(number: str) -> str:
    number = number.strip()
    if not number:
        raise InvalidRequest("hubTrackingNumber is required", field="hubTrackingNumber")
    return number


def _in_box_of(
    record: EnvelopeRecord | None, number: str, caller: AuthenticatedNppo
) -> EnvelopeRecord:
    if record is None or record.box_code != caller.code:
        raise NotFound(
            f"no envelope {number} in the box of {caller.code}", field="hubTrackingNumber"
        )
    return record


def _check_acknowledgement_message(kind: AcknowledgementKind, message: str | None) -> None:
    if kind is AcknowledgementKind.OK:
        if message is not None:
            raise InvalidRequest(
                "an ok acknowledgement carries no message; use with_warnings", field="message"
            )
    elif kind is AcknowledgementKind.WITH_WARNINGS:
        if not (message or "").strip():
            raise InvalidRequest("a warning message is required", field="warningMessage")
    elif not (message or "").strip():
        raise InvalidRequest(
            "the reason the envelope could not be read is required", field="message"
        )


def _check_header_fields(header: EnvelopeHeader, *, accepted_statuses: frozenset[int]) -> None:
    number = header.nppo_certificate_number.strip()
    if not number:
        raise DeliveryRefused("NPPOCertificateNumber is required", field="NPPOCertificateNumber")
    if len(number) > 200:
        raise DeliveryRefused(
            "NPPOCertificateNumber is longer than 200 characters", field="NPPOCertificateNumber"
        )
    if header.certificate_type not in CERTIFICATE_TYPES:
        raise DeliveryRefused(
            f"CertificateType {header.certificate_type} is not 851 (phytosanitary) "
            "or 657 (re-export)",
            field="CertificateType",
        )
    if header.certificate_status not in accepted_statuses:
        allowed = ", ".join(str(s) for s in sorted(accepted_statuses))
        raise DeliveryRefused(
            f"CertificateStatus {header.certificate_status} is not accepted (accepted: {allowed})",
            field="CertificateStatus",
        )


def _delegates_sending(
    registry: Registry, *, caller: AuthenticatedNppo, header: EnvelopeHeader
) -> bool:
    """A DELEGATE channel with an OUT rule may send on behalf of the country it serves."""
    if not caller.is_channel:
        return False
    channels = registry.channels_with_rule(
        rule_type=RuleType.DELEGATE.value,
        country_code=header.from_code.strip().upper(),
        direction=Direction.OUT.value,
        certificate_type=header.certificate_type,
        certificate_status=header.certificate_status,
    )
    return any(channel.code == caller.code for channel in channels)


def _refuse_self_delivery(sender: NppoEntry, destination: NppoEntry) -> None:
    if sender.code == destination.code:
        raise DeliveryRefused("From and To are the same NPPO", field="To")


def _check_consistency(
    header: EnvelopeHeader, number: str | None, type_code: str | None, status_code: str | None
) -> None:
    """The header routes the envelope; it must say what the certificate inside says."""
    if number is not None and number != header.nppo_certificate_number.strip():
        raise DeliveryRefused(
            f"NPPOCertificateNumber {header.nppo_certificate_number!r} differs from the "
            f"certificate's ID {number!r}",
            field="NPPOCertificateNumber",
        )
    if type_code is not None and type_code != str(header.certificate_type):
        raise DeliveryRefused(
            f"CertificateType {header.certificate_type} differs from the certificate's "
            f"TypeCode {type_code}",
            field="CertificateType",
        )
    if status_code is not None and status_code != str(header.certificate_status):
        raise DeliveryRefused(
            f"CertificateStatus {header.certificate_status} differs from the certificate's "
            f"StatusCode {status_code}",
            field="CertificateStatus",
        )


def _refuse_on_severe(results: Sequence[ValidationResult]) -> None:
    severe = [r for r in results if r.level is Level.SEVERE]
    if not severe:
        return
    shown = "; ".join(f"[{r.area}] {r.field}: {r.msg}" for r in severe[:5])
    more = f" (and {len(severe) - 5} more)" if len(severe) > 5 else ""
    raise DeliveryRefused(
        f"validation found {len(severe)} SEVERE problem(s): {shown}{more}", field=severe[0].field
    )
