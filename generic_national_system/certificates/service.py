"""The export workflow: editing drafts, review, issue, send, tracking, replacement, withdrawal.

Every action checks the transition table (`states.RULES`) and the viewer's role, changes the row,
and writes an audit entry, all in the caller's unit of work (no commit here). The hub is called
through `HubConnector` only, as any national system would.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ephyto_core._codelists import CodeLists
from ephyto_core._validation import Validator
from ephyto_core._validation_result import Level, ValidationResult
from ephyto_core.certificate import (
    STATUS_WITHDRAWN,
    Certificate,
    build_certificate_xml,
    read_certificate,
    withdrawal_of,
)
from generic_national_system.accounts.credentials import hub_credentials, signing_material
from generic_national_system.accounts.models import Tenant, User
from generic_national_system.accounts.roles import Permission, can
from generic_national_system.accounts.service import Viewer, take_sequence
from generic_national_system.audit.service import record
from generic_national_system.certificates.draft import Draft, DraftLine
from generic_national_system.certificates.mapping import (
    AttachmentData,
    IssueContext,
    build_certificate,
)
from generic_national_system.certificates.models import CertificateAttachment, ExportCertificate
from generic_national_system.certificates.sections import (
    MAX_LINES,
    MAX_TREATMENTS,
    Missing,
    missing_parts,
    sections_for,
)
from generic_national_system.certificates.states import (
    EDITABLE,
    ISSUED_STATES,
    RULES,
    Action,
    State,
)
from generic_national_system.database import utcnow
from generic_national_system.errors import Forbidden, InvalidTransition, NotFound
from generic_national_system.hub_client import HubConnector, HubRefused, Participant
from generic_national_system.hub_directory import HubDirectory
from generic_national_system.imports.verification import check_seal
from generic_national_system.signing import sign_content

#: What the hub's tracking states mean for a sent certificate (PendingDelivery: still sent).
_TRACKING_STATES = {
    "Delivered": State.DELIVERED,
    "DeliveredWithWarnings": State.DELIVERED_WITH_WARNINGS,
    "FailedDelivery": State.FAILED,
    "DeliveredNotReadable": State.FAILED,
}


@dataclass(frozen=True, slots=True)
class IssueOutcome:
    issued: bool
    findings: tuple[ValidationResult, ...] = ()
    missing: tuple[Missing, ...] = ()


class CertificateService:
    def __init__(
        self,
        *,
        code_lists: CodeLists,
        validator: Validator,
        hub: HubConnector,
        directory: HubDirectory,
        secret_key: str,
        sign: bool,
    ) -> None:
        self.code_lists = code_lists
        self._validator = validator
        self._hub = hub
        self._directory = directory
        self._secret_key = secret_key
        self._sign = sign

    # ----------------------------------------------------------------------------- reading

    async def get(
        self, session: AsyncSession, *, viewer: Viewer, certificate_id: int
    ) -> ExportCertificate:
        """The tenant's certificate; another tenant's is NotFound, like a missing one."""
        cert = await session.get(ExportCertificate, certificate_id)
        if cert is None or cert.tenant_id != viewer.tenant_id:
            raise NotFound(f"no certificate {certificate_id} for tenant {viewer.tenant_code}")
        return cert

    async def list_for(
        self,
        session: AsyncSession,
        *,
        viewer: Viewer,
        state: State | None = None,
        limit: int = 100,
    ) -> list[ExportCertificate]:
        """Newest first."""
        query = select(ExportCertificate).where(ExportCertificate.tenant_id == viewer.tenant_id)
        if state is not None:
            query = query.where(ExportCertificate.state == state.value)
        rows = await session.scalars(query.order_by(ExportCertificate.id.desc()).limit(limit))
        return list(rows)

    async def counts(self, session: AsyncSession, *, viewer: Viewer) -> dict[str, int]:
        rows = await session.execute(
            select(ExportCertificate.state, func.count())
            .where(ExportCertificate.tenant_id == viewer.tenant_id)
            .group_by(ExportCertificate.state)
        )
        return {state: count for state, count in rows}

    async def replaced_number(self, session: AsyncSession, cert: ExportCertificate) -> str | None:
        if cert.replaces_id is None:
            return None
        old = await session.get(ExportCertificate, cert.replaces_id)
        return old.number if old is not None else None

    async def replacements(
        self, session: AsyncSession, cert: ExportCertificate
    ) -> list[ExportCertificate]:
        rows = await session.scalars(
            select(ExportCertificate)
            .where(
                ExportCertificate.replaces_id == cert.id,
                ExportCertificate.tenant_id == cert.tenant_id,
            )
            .order_by(ExportCertificate.id)
        )
        return list(rows)

    def draft_of(self, cert: ExportCertificate) -> Draft:
        return Draft.model_validate(cert.data)

    def missing(self, cert: ExportCertificate) -> list[Missing]:
        sections = sections_for(cert.type_code, replacing=cert.replaces_id is not None)
        return missing_parts(self.draft_of(cert), sections)

    def allowed_actions(self, viewer: Viewer, cert: ExportCertificate) -> list[Action]:
        state = State(cert.state)
        return [
            action
            for action, rule in RULES.items()
            if state in rule.sources and can(viewer.role, rule.permission)
        ]

    def can_edit(self, viewer: Viewer, cert: ExportCertificate) -> bool:
        return State(cert.state) in EDITABLE and can(viewer.role, Permission.EDIT_DRAFT)

    async def printable(
        self, session: AsyncSession, *, viewer: Viewer, cert: ExportCertificate
    ) -> Certificate:
        """What to print: the issued content as sent, or for a draft what issuing it now would
        make of the data entered so far (printed with DRAFT across it)."""
        if cert.content is not None:
            return read_certificate(cert.content)
        tenant = await self._tenant(session, viewer)
        context = IssueContext(
            number=cert.number,
            type_code=cert.type_code,
            issued_at=utcnow(),
            issuer_name=tenant.name,
            export_country=tenant.country_code,
            officer_name="",
            replaced_number=await self.replaced_number(session, cert),
        )
        return build_certificate(self.draft_of(cert), context, self.code_lists)

    # ----------------------------------------------------------------------------- drafts

    async def create(
        self, session: AsyncSession, *, viewer: Viewer, type_code: int
    ) -> ExportCertificate:
        if not can(viewer.role, Permission.EDIT_DRAFT):
            raise Forbidden(f"{viewer.role} cannot create certificates")
        tenant = await self._tenant(session, viewer)
        draft = Draft(
            sections={
                "declarations": {
                    "certificate_language": viewer.language,
                    "place_of_issue": tenant.place_of_issue or "",
                }
            }
        )
        return await self._new(session, viewer=viewer, type_code=type_code, draft=draft)

    async def _new(
        self,
        session: AsyncSession,
        *,
        viewer: Viewer,
        type_code: int,
        draft: Draft,
        replaces: ExportCertificate | None = None,
    ) -> ExportCertificate:
        sequence = await take_sequence(session, tenant_id=viewer.tenant_id)
        now = utcnow()
        cert = ExportCertificate(
            tenant_id=viewer.tenant_id,
            number=f"{viewer.tenant_code}-{now.year}-{sequence:06d}",
            type_code=type_code,
            state=State.DRAFT.value,
            data=draft.model_dump(),
            replaces_id=replaces.id if replaces is not None else None,
            created_by=viewer.username,
            created_at=now,
            updated_at=now,
        )
        self._denormalise(cert, draft)
        session.add(cert)
        await session.flush()
        detail = f"type {type_code}" + (f", replaces {replaces.number}" if replaces else "")
        await self._audit(session, viewer, cert, "created", None, State.DRAFT, detail)
        return cert

    def require_editable(self, viewer: Viewer, cert: ExportCertificate) -> None:
        if not can(viewer.role, Permission.EDIT_DRAFT):
            raise Forbidden(f"{viewer.role} cannot edit certificates")
        if State(cert.state) not in EDITABLE:
            raise InvalidTransition(f"certificate {cert.number} is {cert.state}, not editable")

    async def save_section(
        self,
        session: AsyncSession,
        *,
        viewer: Viewer,
        cert: ExportCertificate,
        section: str,
        values: dict[str, str],
    ) -> None:
        self.require_editable(viewer, cert)
        draft = self.draft_of(cert)
        draft.sections[section] = values
        await self._store(session, viewer, cert, draft, f"section {section}")

    async def save_line(
        self,
        session: AsyncSession,
        *,
        viewer: Viewer,
        cert: ExportCertificate,
        index: int | None,
        values: dict[str, str],
    ) -> int:
        """Store a trade line (a new one when `index` is None); returns its index."""
        self.require_editable(viewer, cert)
        draft = self.draft_of(cert)
        if index is None:
            if len(draft.lines) >= MAX_LINES:
                raise InvalidTransition(f"a certificate has at most {MAX_LINES} lines")
            draft.lines.append(DraftLine(values=values))
            index = len(draft.lines) - 1
        else:
            self._line(draft, index).values = values
        await self._store(session, viewer, cert, draft, f"commodity {index + 1}")
        return index

    async def delete_line(
        self, session: AsyncSession, *, viewer: Viewer, cert: ExportCertificate, index: int
    ) -> None:
        self.require_editable(viewer, cert)
        draft = self.draft_of(cert)
        self._line(draft, index)
        del draft.lines[index]
        await self._store(session, viewer, cert, draft, f"commodity {index + 1} removed")

    async def add_treatment(
        self,
        session: AsyncSession,
        *,
        viewer: Viewer,
        cert: ExportCertificate,
        line_index: int,
        values: dict[str, str],
    ) -> None:
        self.require_editable(viewer, cert)
        draft = self.draft_of(cert)
        line = self._line(draft, line_index)
        if len(line.treatments) >= MAX_TREATMENTS:
            raise InvalidTransition(f"a commodity has at most {MAX_TREATMENTS} treatments")
        line.treatments.append(values)
        await self._store(session, viewer, cert, draft, f"treatment of commodity {line_index + 1}")

    async def delete_treatment(
        self,
        session: AsyncSession,
        *,
        viewer: Viewer,
        cert: ExportCertificate,
        line_index: int,
        index: int,
    ) -> None:
        self.require_editable(viewer, cert)
        draft = self.draft_of(cert)
        line = self._line(draft, line_index)
        if not 0 <= index < len(line.treatments):
            raise NotFound(f"no treatment {index} on commodity {line_index}")
        del line.treatments[index]
        await self._store(session, viewer, cert, draft, f"treatment removed ({line_index + 1})")

    @staticmethod
    def _line(draft: Draft, index: int) -> DraftLine:
        if not 0 <= index < len(draft.lines):
            raise NotFound(f"no commodity {index}")
        return draft.lines[index]

    async def _store(
        self,
        session: AsyncSession,
        viewer: Viewer,
        cert: ExportCertificate,
        draft: Draft,
        what: str,
    ) -> None:
        cert.data = draft.model_dump()
        cert.updated_at = utcnow()
        self._denormalise(cert, draft)
        await session.flush()
        await self._audit(session, viewer, cert, "edited", None, None, what)

    @staticmethod
    def _denormalise(cert: ExportCertificate, draft: Draft) -> None:
        cert.import_country = draft.value("route", "import_country") or None
        cert.consignee_name = (draft.value("parties", "consignee_name") or "")[:200] or None

    # ----------------------------------------------------------------------------- attachments

    async def attachments(
        self, session: AsyncSession, cert: ExportCertificate
    ) -> list[CertificateAttachment]:
        rows = await session.scalars(
            select(CertificateAttachment)
            .where(CertificateAttachment.certificate_id == cert.id)
            .order_by(CertificateAttachment.id)
        )
        return list(rows)

    async def attachment(
        self, session: AsyncSession, cert: ExportCertificate, attachment_id: int
    ) -> CertificateAttachment:
        found = await session.get(CertificateAttachment, attachment_id)
        if found is None or found.certificate_id != cert.id:
            raise NotFound(f"no attachment {attachment_id} on {cert.number}")
        return found

    async def add_attachment(
        self,
        session: AsyncSession,
        *,
        viewer: Viewer,
        cert: ExportCertificate,
        filename: str,
        media_type: str,
        description: str,
        content: bytes,
    ) -> None:
        self.require_editable(viewer, cert)
        session.add(
            CertificateAttachment(
                certificate_id=cert.id,
                filename=filename,
                media_type=media_type,
                description=description,
                content=content,
                size=len(content),
            )
        )
        cert.updated_at = utcnow()
        await session.flush()
        await self._audit(session, viewer, cert, "attached", None, None, filename)

    async def delete_attachment(
        self, session: AsyncSession, *, viewer: Viewer, cert: ExportCertificate, attachment_id: int
    ) -> None:
        self.require_editable(viewer, cert)
        found = await self.attachment(session, cert, attachment_id)
        await session.delete(found)
        await session.flush()
        await self._audit(session, viewer, cert, "detached", None, None, found.filename)

    # ----------------------------------------------------------------------------- workflow

    def _check(self, viewer: Viewer, cert: ExportCertificate, action: Action) -> State:
        rule = RULES[action]
        if not can(viewer.role, rule.permission):
            raise Forbidden(f"{viewer.role} may not {action} certificates")
        state = State(cert.state)
        if state not in rule.sources:
            raise InvalidTransition(f"cannot {action} certificate {cert.number}: it is {state}")
        return state

    async def _move(
        self,
        session: AsyncSession,
        viewer: Viewer,
        cert: ExportCertificate,
        action: Action,
        to: State,
        detail: str | None = None,
    ) -> None:
        before = cert.state
        cert.state = to.value
        cert.updated_at = utcnow()
        await session.flush()
        await self._audit(session, viewer, cert, action.value, State(before), to, detail)

    async def submit(
        self, session: AsyncSession, *, viewer: Viewer, cert: ExportCertificate
    ) -> list[Missing]:
        """Submits, or returns what is still missing (and changes nothing)."""
        self._check(viewer, cert, Action.SUBMIT)
        missing = self.missing(cert)
        if missing:
            return missing
        await self._move(session, viewer, cert, Action.SUBMIT, State.SUBMITTED)
        return []

    async def return_for_correction(
        self, session: AsyncSession, *, viewer: Viewer, cert: ExportCertificate, comment: str
    ) -> None:
        self._check(viewer, cert, Action.RETURN)
        cert.review_comment = comment
        await self._move(session, viewer, cert, Action.RETURN, State.RETURNED, comment)

    async def approve(
        self, session: AsyncSession, *, viewer: Viewer, cert: ExportCertificate
    ) -> None:
        self._check(viewer, cert, Action.APPROVE)
        cert.review_comment = None
        await self._move(session, viewer, cert, Action.APPROVE, State.APPROVED)

    async def issue(
        self, session: AsyncSession, *, viewer: Viewer, cert: ExportCertificate
    ) -> IssueOutcome:
        """Build the SPSCertificate, validate it with the hub's rules, sign it if configured.

        Refused (nothing stored but the findings and an audit entry) on a SEVERE finding.
        """
        self._check(viewer, cert, Action.ISSUE)
        missing = self.missing(cert)
        if missing:
            return IssueOutcome(issued=False, missing=tuple(missing))
        tenant = await self._tenant(session, viewer)
        officer = await session.get(User, viewer.user_id)
        old = (
            await session.get(ExportCertificate, cert.replaces_id)
            if cert.replaces_id is not None
            else None
        )
        if old is not None and State(old.state) not in ISSUED_STATES:
            raise InvalidTransition(
                f"{old.number} is {old.state}: there is nothing to replace any more"
            )
        now = utcnow()
        context = IssueContext(
            number=cert.number,
            type_code=cert.type_code,
            issued_at=now,
            issuer_name=tenant.name,
            export_country=tenant.country_code,
            officer_name=officer.full_name if officer is not None else viewer.full_name,
            attachments=[
                AttachmentData(
                    filename=a.filename,
                    media_type=a.media_type,
                    description=a.description,
                    content=a.content,
                )
                for a in await self.attachments(session, cert)
            ],
            replaced_number=old.number if old is not None else None,
            replaced_issued_at=old.issued_at if old is not None else None,
        )
        certificate = build_certificate(self.draft_of(cert), context, self.code_lists)
        content = build_certificate_xml(certificate)
        findings = tuple(self._validator.validate(content))
        cert.findings = [_finding_dict(f) for f in findings]
        if any(f.level is Level.SEVERE for f in findings):
            await self._audit(
                session,
                viewer,
                cert,
                "issue_refused",
                None,
                None,
                f"{sum(f.level is Level.SEVERE for f in findings)} severe finding(s)",
            )
            return IssueOutcome(issued=False, findings=findings)
        if self._sign:
            material = signing_material(tenant, secret_key=self._secret_key)
            if material is not None:
                content = sign_content(content, *material)
        cert.content = content
        cert.issued_at = now
        cert.issued_by = viewer.username
        await self._move(session, viewer, cert, Action.ISSUE, State.ISSUED)
        if old is not None:
            before = State(old.state)
            old.state = State.REPLACED.value
            old.updated_at = now
            await session.flush()
            await self._audit(
                session, viewer, old, "replaced", before, State.REPLACED, f"by {cert.number}"
            )
        return IssueOutcome(issued=True, findings=findings)

    async def destinations(self, session: AsyncSession, *, viewer: Viewer) -> list[Participant]:
        """The hub participants a certificate can be sent to (not the tenant itself)."""
        tenant = await self._tenant(session, viewer)
        async with self._hub.open(hub_credentials(tenant, secret_key=self._secret_key)) as hub:
            participants = await self._directory.participants(hub)
        return [p for p in participants if p.can_receive and p.code != tenant.code]

    async def send(
        self,
        session: AsyncSession,
        *,
        viewer: Viewer,
        cert: ExportCertificate,
        destination: str | None = None,
    ) -> HubRefused | None:
        """Deliver through the hub to `destination` (a hub participant; by default the one whose
        code is the import country). A refusal is recorded (state failed) and returned; a hub
        that cannot be reached raises HubUnavailable and changes nothing."""
        self._check(viewer, cert, Action.SEND)
        tenant = await self._tenant(session, viewer)
        assert cert.content is not None and cert.import_country is not None
        to_code = destination or cert.import_country
        credentials = hub_credentials(tenant, secret_key=self._secret_key)
        async with self._hub.open(credentials) as hub:
            try:
                header = await hub.submit(
                    from_code=tenant.code,
                    to_code=to_code,
                    certificate_type=cert.type_code,
                    certificate_status=70,
                    number=cert.number,
                    content=cert.content,
                )
            except HubRefused as refusal:
                cert.hub_message = refusal.message
                cert.hub_tracking = "FailedDelivery"
                cert.destination_code = to_code
                await self._move(
                    session,
                    viewer,
                    cert,
                    Action.SEND,
                    State.FAILED,
                    f"hub refused ({refusal.hub_code}): {refusal.message}",
                )
                return refusal
            seal_pem = await self._directory.seal_certificate_pem(hub) if header.seal else None
        cert.destination_code = to_code
        cert.hub_delivery_number = header.hub_delivery_number
        cert.hub_tracking = header.tracking_info
        cert.hub_message = header.error_message
        cert.sent_at = utcnow()
        if header.seal is not None and seal_pem is not None:
            seal = check_seal(
                header.seal,
                header=header,
                content=cert.content,
                certificates=[self._directory.certificate(seal_pem)],
            )
            cert.hub_seal = header.seal
            cert.hub_seal_verified = seal.verified
            cert.hub_seal_cert_pem = seal_pem.decode("ascii") if seal.verified else None
        await self._move(
            session,
            viewer,
            cert,
            Action.SEND,
            State.SENT,
            f"to {to_code}, hub delivery number {header.hub_delivery_number}"
            + ("" if cert.hub_seal_verified else " (hub seal NOT verified)"),
        )
        return None

    async def refresh(
        self, session: AsyncSession, *, viewer: Viewer, cert: ExportCertificate
    ) -> None:
        """Ask the hub what became of a sent certificate and follow its tracking state."""
        self._check(viewer, cert, Action.REFRESH)
        tenant = await self._tenant(session, viewer)
        assert cert.hub_delivery_number is not None
        async with self._hub.open(hub_credentials(tenant, secret_key=self._secret_key)) as hub:
            header = await hub.tracking(cert.hub_delivery_number)
        cert.hub_tracking = header.tracking_info
        cert.hub_message = header.error_message
        target = _TRACKING_STATES.get(header.tracking_info or "")
        if target is None:
            cert.updated_at = utcnow()
            await session.flush()
            return
        await self._move(
            session,
            viewer,
            cert,
            Action.REFRESH,
            target,
            f"{header.tracking_info}: {header.error_message}"
            if header.error_message
            else header.tracking_info,
        )

    async def replace(
        self, session: AsyncSession, *, viewer: Viewer, cert: ExportCertificate
    ) -> ExportCertificate:
        """A new draft with the same data, replacing `cert` once it is issued."""
        self._check(viewer, cert, Action.REPLACE)
        draft = self.draft_of(cert)
        new = await self._new(
            session, viewer=viewer, type_code=cert.type_code, draft=draft, replaces=cert
        )
        for attachment in await self.attachments(session, cert):
            session.add(
                CertificateAttachment(
                    **{
                        column: getattr(attachment, column)
                        for column in ("filename", "media_type", "description", "content", "size")
                    },
                    certificate_id=new.id,
                )
            )
        await session.flush()
        await self._audit(session, viewer, cert, "replacement_started", None, None, new.number)
        return new

    async def withdraw(
        self, session: AsyncSession, *, viewer: Viewer, cert: ExportCertificate, reason: str
    ) -> None:
        """Withdraw; a certificate the importer may hold is withdrawn through the hub too
        (status 40, same number). Hub failure raises and changes nothing."""
        state = self._check(viewer, cert, Action.WITHDRAW)
        detail = reason
        if state in (State.SENT, State.DELIVERED, State.DELIVERED_WITH_WARNINGS):
            tenant = await self._tenant(session, viewer)
            assert cert.content is not None and cert.import_country is not None
            withdrawal = build_certificate_xml(withdrawal_of(read_certificate(cert.content)))
            credentials = hub_credentials(tenant, secret_key=self._secret_key)
            async with self._hub.open(credentials) as hub:
                header = await hub.submit(
                    from_code=tenant.code,
                    to_code=cert.destination_code or cert.import_country,
                    certificate_type=cert.type_code,
                    certificate_status=STATUS_WITHDRAWN,
                    number=cert.number,
                    content=withdrawal,
                )
            detail = f"{reason} (hub delivery number {header.hub_delivery_number})"
        await self._move(session, viewer, cert, Action.WITHDRAW, State.WITHDRAWN, detail)

    # ----------------------------------------------------------------------------- helpers

    async def _tenant(self, session: AsyncSession, viewer: Viewer) -> Tenant:
        tenant = await session.get(Tenant, viewer.tenant_id)
        if tenant is None:
            raise NotFound(f"no tenant {viewer.tenant_id}")
        return tenant

    async def _audit(
        self,
        session: AsyncSession,
        viewer: Viewer,
        cert: ExportCertificate,
        action: str,
        before: State | None,
        after: State | None,
        detail: str | None,
    ) -> None:
        await record(
            session,
            tenant_id=cert.tenant_id,
            certificate_id=cert.id,
            actor=viewer.username,
            action=action,
            from_state=before.value if before else None,
            to_state=after.value if after else None,
            detail=detail,
        )


def _finding_dict(finding: ValidationResult) -> dict[str, str]:
    return {
        "area": finding.area.value,
        "level": finding.level.value,
        "field": finding.field,
        "msg": finding.msg,
    }


def findings_of(cert: ExportCertificate) -> Sequence[dict[str, str]]:
    return cert.findings or ()
