"""The import side: fetch what waits in the tenant's box, check it, show it, acknowledge it, and
answer the exporter (country response). No HTTP here and no commit: callers own the unit of work.

Fetching stores before anything is acknowledged: an envelope stays in the hub's box until an
inspector acknowledges it, so a fetch that fails half-way loses nothing (the next one finds the
rest), and one fetched twice is stored once (the tenant and delivery number are unique).
Country responses to the tenant's own certificates are acknowledged right after they are stored
and committed (`acknowledge_responses`), since there is nothing for a person to decide.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ephyto_core._codelists import CodeLists
from ephyto_core._errors import EphytoError
from ephyto_core._safexml import parse_content
from ephyto_core._validation import Validator
from ephyto_core.certificate import Certificate, read_certificate
from generic_national_system.accounts.credentials import hub_credentials
from generic_national_system.accounts.models import Tenant
from generic_national_system.accounts.roles import Permission, can
from generic_national_system.accounts.service import Viewer
from generic_national_system.audit.service import record
from generic_national_system.certificates.models import ExportCertificate
from generic_national_system.database import utcnow
from generic_national_system.errors import Forbidden, InvalidTransition, NotFound
from generic_national_system.hub_client import AckKind, HubClient, HubConnector, PulledEnvelope
from generic_national_system.hub_directory import HubDirectory
from generic_national_system.imports.acknowledgement import (
    ACCEPTED,
    REJECTED,
    build_acknowledgement,
    read_acknowledgement,
)
from generic_national_system.imports.models import ReceivedEnvelope
from generic_national_system.imports.verification import check_content_signature, check_seal

CERTIFICATE = "certificate"
COUNTRY_RESPONSE = "country_response"

RECEIVED = "received"
#: The state after each kind of acknowledgement (the hub's Delivered, DeliveredWithWarnings,
#: DeliveredNotReadable).
ACKNOWLEDGED: dict[AckKind, str] = {
    "ok": "acknowledged",
    "with_warnings": "acknowledged_with_warnings",
    "failed": "not_readable",
}
Decision = Literal["accepted", "rejected"]


@dataclass(frozen=True, slots=True)
class FetchOutcome:
    new: int
    known: int
    #: Delivery numbers whose seal did not verify (stored all the same, and shown as such).
    unverified: tuple[str, ...] = ()


class ImportService:
    def __init__(
        self,
        *,
        code_lists: CodeLists,
        validator: Validator,
        hub: HubConnector,
        directory: HubDirectory,
        secret_key: str,
    ) -> None:
        self.code_lists = code_lists
        self._validator = validator
        self._hub = hub
        self._directory = directory
        self._secret_key = secret_key

    # ----------------------------------------------------------------------------- fetching

    async def fetch(self, session: AsyncSession, *, tenant: Tenant, actor: str) -> FetchOutcome:
        """Pull every envelope waiting in the tenant's box that GeNS does not hold yet."""
        credentials = hub_credentials(tenant, secret_key=self._secret_key)
        new, known, unverified = 0, 0, []
        async with self._hub.open(credentials) as hub:
            waiting = await hub.waiting()
            held = await self._held(session, tenant.id, [h.hub_delivery_number for h in waiting])
            seal_pem: bytes | None = None
            for header in waiting:
                number = header.hub_delivery_number
                if number is None or number in held:
                    known += 1
                    continue
                if seal_pem is None:
                    seal_pem = await self._directory.seal_certificate_pem(hub)
                pulled = await hub.pull(number)
                row = await self._received(hub, tenant, pulled, seal_pem, actor)
                if not await self._store(session, row):
                    known += 1
                    continue
                new += 1
                if not row.seal_verified:
                    unverified.append(number)
                await record(
                    session,
                    tenant_id=tenant.id,
                    received_id=row.id,
                    actor=actor,
                    action="received",
                    to_state=RECEIVED,
                    detail=f"{row.kind} {row.nppo_certificate_number} from {row.from_code} "
                    f"(hub delivery number {number}; seal "
                    f"{'verified' if row.seal_verified else 'NOT verified'})",
                )
        return FetchOutcome(new=new, known=known, unverified=tuple(unverified))

    async def acknowledge_responses(
        self, session: AsyncSession, *, tenant: Tenant, actor: str
    ) -> int:
        """Acknowledge to the hub the country responses already stored (after their commit)."""
        rows = list(
            await session.scalars(
                select(ReceivedEnvelope).where(
                    ReceivedEnvelope.tenant_id == tenant.id,
                    ReceivedEnvelope.kind == COUNTRY_RESPONSE,
                    ReceivedEnvelope.state == RECEIVED,
                )
            )
        )
        if not rows:
            return 0
        async with self._hub.open(hub_credentials(tenant, secret_key=self._secret_key)) as hub:
            for row in rows:
                kind: AckKind = "ok" if row.readable else "failed"
                await hub.acknowledge(
                    row.hub_delivery_number,
                    kind=kind,
                    message=None if row.readable else (row.read_problem or "not readable"),
                )
                row.state = ACKNOWLEDGED[kind]
                row.acknowledged_by = actor
                row.acknowledged_at = utcnow()
        await session.flush()
        return len(rows)

    async def _held(
        self, session: AsyncSession, tenant_id: int, numbers: Sequence[str | None]
    ) -> set[str]:
        wanted = [n for n in numbers if n]
        if not wanted:
            return set()
        rows = await session.scalars(
            select(ReceivedEnvelope.hub_delivery_number).where(
                ReceivedEnvelope.tenant_id == tenant_id,
                ReceivedEnvelope.hub_delivery_number.in_(wanted),
            )
        )
        return set(rows)

    async def _store(self, session: AsyncSession, row: ReceivedEnvelope) -> bool:
        """Insert; False when a concurrent fetch stored the same envelope first."""
        try:
            async with session.begin_nested():
                session.add(row)
                await session.flush()
        except IntegrityError:
            return False
        return True

    async def _received(
        self,
        hub: HubClient,
        tenant: Tenant,
        pulled: PulledEnvelope,
        seal_pem: bytes,
        actor: str,
    ) -> ReceivedEnvelope:
        header, content = pulled.header, pulled.content
        now = utcnow()
        seal = check_seal(
            pulled.seal,
            header=header,
            content=content,
            certificates=[self._directory.certificate(seal_pem)],
            now=now,
        )
        row = ReceivedEnvelope(
            tenant_id=tenant.id,
            kind=pulled.kind,
            hub_delivery_number=header.hub_delivery_number or "",
            from_code=header.from_code,
            to_code=header.to_code,
            certificate_type=header.certificate_type,
            certificate_status=header.certificate_status,
            nppo_certificate_number=header.nppo_certificate_number[:100],
            content=content,
            content_sha256=hashlib.sha256(content).hexdigest(),
            received_at=now,
            received_by=actor,
            seal=pulled.seal,
            seal_cert_pem=seal_pem.decode("ascii") if seal.verified else None,
            seal_verified=seal.verified,
            seal_problem=seal.problem,
            sealed_at=seal.facts.accepted_at if seal.facts else None,
            state=RECEIVED,
        )
        if pulled.kind == COUNTRY_RESPONSE:
            self._read_response(row)
            return row
        sender = await self._directory.participant(hub, header.from_code)
        signature = check_content_signature(
            content, signing_certificate=sender.signing_certificate if sender else None, now=now
        )
        row.content_signature = signature.outcome
        row.content_signature_detail = signature.detail
        self._read_certificate(row)
        return row

    def _read_certificate(self, row: ReceivedEnvelope) -> None:
        try:
            cert = read_certificate(parse_content(row.content))
        except EphytoError as exc:
            row.readable, row.read_problem = False, exc.message
            return
        row.findings = [
            {"area": f.area.value, "level": f.level.value, "field": f.field, "msg": f.msg}
            for f in self._validator.validate(row.content)
        ]
        consignment = cert.consignment
        row.export_country = (
            consignment.export_country.id[:2] if consignment.export_country else None
        )
        row.import_country = (
            consignment.import_country.id[:2] if consignment.import_country else None
        )
        consignor = consignment.consignor.name if consignment.consignor else None
        row.consignor_name = (consignor or "")[:200] or None
        if consignment.trade_line_items:
            first = consignment.trade_line_items[0]
            names = first.descriptions or first.common_names or first.scientific_names
            row.commodity = names[0].value[:200] if names else None
        row.issued_at = cert.document.issue_datetime

    @staticmethod
    def _read_response(row: ReceivedEnvelope) -> None:
        try:
            response = read_acknowledgement(parse_content(row.content))
        except EphytoError as exc:
            row.readable, row.read_problem = False, exc.message
            return
        if response is None:
            row.readable, row.read_problem = False, "not an SPSAcknowledgement with a status"
            return
        row.response_status = response.status
        row.response_reason = response.reason

    # ----------------------------------------------------------------------------- reading

    def require(self, viewer: Viewer, permission: Permission) -> None:
        if not can(viewer.role, permission):
            raise Forbidden(f"{viewer.role} may not {permission}")

    async def get(
        self, session: AsyncSession, *, viewer: Viewer, received_id: int
    ) -> ReceivedEnvelope:
        """The tenant's received certificate; another tenant's is NotFound, like a missing one."""
        self.require(viewer, Permission.RECEIVE)
        row = await session.get(ReceivedEnvelope, received_id)
        if row is None or row.tenant_id != viewer.tenant_id or row.kind != CERTIFICATE:
            raise NotFound(f"no received certificate {received_id} for {viewer.tenant_code}")
        return row

    async def list_for(
        self,
        session: AsyncSession,
        *,
        viewer: Viewer,
        state: str | None = None,
        limit: int = 100,
    ) -> list[ReceivedEnvelope]:
        """The tenant's received certificates, newest first."""
        self.require(viewer, Permission.RECEIVE)
        query = select(ReceivedEnvelope).where(
            ReceivedEnvelope.tenant_id == viewer.tenant_id,
            ReceivedEnvelope.kind == CERTIFICATE,
        )
        if state is not None:
            query = query.where(ReceivedEnvelope.state == state)
        rows = await session.scalars(query.order_by(ReceivedEnvelope.id.desc()).limit(limit))
        return list(rows)

    async def counts(self, session: AsyncSession, *, viewer: Viewer) -> dict[str, int]:
        rows = await session.execute(
            select(ReceivedEnvelope.state, func.count())
            .where(
                ReceivedEnvelope.tenant_id == viewer.tenant_id,
                ReceivedEnvelope.kind == CERTIFICATE,
            )
            .group_by(ReceivedEnvelope.state)
        )
        return {state: count for state, count in rows}

    @staticmethod
    def certificate(row: ReceivedEnvelope) -> Certificate | None:
        """The received certificate, read from the stored bytes (None if unreadable)."""
        if not row.readable:
            return None
        try:
            return read_certificate(parse_content(row.content))
        except EphytoError:
            return None

    async def responses_to(
        self, session: AsyncSession, cert: ExportCertificate
    ) -> list[ReceivedEnvelope]:
        """The importers' country responses to one of the tenant's own certificates."""
        rows = await session.scalars(
            select(ReceivedEnvelope)
            .where(
                ReceivedEnvelope.tenant_id == cert.tenant_id,
                ReceivedEnvelope.kind == COUNTRY_RESPONSE,
                ReceivedEnvelope.nppo_certificate_number == cert.number,
            )
            .order_by(ReceivedEnvelope.id)
        )
        return list(rows)

    # ----------------------------------------------------------------------------- inspector

    async def acknowledge(
        self,
        session: AsyncSession,
        *,
        viewer: Viewer,
        row: ReceivedEnvelope,
        kind: AckKind,
        message: str | None,
    ) -> None:
        """Tell the hub what became of the envelope; the hub's answer is final."""
        self.require(viewer, Permission.ACKNOWLEDGE)
        if row.state != RECEIVED:
            raise InvalidTransition(f"{row.hub_delivery_number} is already {row.state}")
        tenant = await self._tenant(session, viewer)
        async with self._hub.open(hub_credentials(tenant, secret_key=self._secret_key)) as hub:
            await hub.acknowledge(
                row.hub_delivery_number, kind=kind, message=message if kind != "ok" else None
            )
        row.state = ACKNOWLEDGED[kind]
        row.acknowledged_by = viewer.username
        row.acknowledged_at = utcnow()
        row.acknowledgement_message = message if kind != "ok" else None
        await session.flush()
        await record(
            session,
            tenant_id=row.tenant_id,
            received_id=row.id,
            actor=viewer.username,
            action="acknowledged",
            from_state=RECEIVED,
            to_state=row.state,
            detail=message,
        )

    async def decide(
        self,
        session: AsyncSession,
        *,
        viewer: Viewer,
        row: ReceivedEnvelope,
        decision: Decision,
        reason: str | None,
    ) -> None:
        """Send the exporter a country response: the consignment accepted or rejected."""
        self.require(viewer, Permission.ACKNOWLEDGE)
        if row.state not in ("acknowledged", "acknowledged_with_warnings"):
            raise InvalidTransition(f"acknowledge {row.hub_delivery_number} before deciding")
        if row.decision is not None:
            raise InvalidTransition(f"{row.hub_delivery_number} was already {row.decision}")
        tenant = await self._tenant(session, viewer)
        acknowledgement = build_acknowledgement(
            status=ACCEPTED if decision == "accepted" else REJECTED,
            reason=reason,
            language=viewer.language,
            certificate_number=row.nppo_certificate_number,
            certificate_type=row.certificate_type,
            certificate_issued_at=row.issued_at,
        )
        async with self._hub.open(hub_credentials(tenant, secret_key=self._secret_key)) as hub:
            header = await hub.send_country_response(
                from_code=tenant.code,
                to_code=row.from_code,
                certificate_type=row.certificate_type,
                certificate_status=row.certificate_status,
                number=row.nppo_certificate_number,
                acknowledgement=acknowledgement,
            )
        row.decision = decision
        row.decision_reason = reason
        row.decided_by = viewer.username
        row.decided_at = utcnow()
        row.decision_delivery_number = header.hub_delivery_number
        await session.flush()
        await record(
            session,
            tenant_id=row.tenant_id,
            received_id=row.id,
            actor=viewer.username,
            action=decision,
            detail=reason,
        )

    async def _tenant(self, session: AsyncSession, viewer: Viewer) -> Tenant:
        tenant = await session.get(Tenant, viewer.tenant_id)
        if tenant is None:
            raise NotFound(f"no tenant {viewer.tenant_id}")
        return tenant
