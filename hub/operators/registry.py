"""NPPO registry changes made by operators: the registry's own rules (`NppoService`), plus a
reason and an audit entry for each change."""

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from hub.nppos.domain import DeliveryMode, Direction, RuleType
from hub.nppos.service import NppoService
from hub.operators import audit
from hub.operators.audit import Actor, require_reason


class RegistryAdmin:
    def __init__(self, *, nppos: NppoService) -> None:
        self._nppos = nppos

    async def register(
        self,
        session: AsyncSession,
        *,
        actor: Actor,
        reason: str,
        code: str,
        name: str,
        is_channel: bool,
        can_send: bool,
        can_receive: bool,
        push_url: str | None,
        allowed_documents: Iterable[tuple[int, int]],
    ) -> str:
        reason = require_reason(reason)
        pairs = list(allowed_documents)
        nppo = await self._nppos.register(
            session,
            code=code,
            name=name.strip() or code,
            is_channel=is_channel,
            can_send=can_send,
            can_receive=can_receive,
            delivery_mode=DeliveryMode.PUSH if push_url else DeliveryMode.PULL,
            push_url=push_url or None,
            allowed_documents=pairs,
        )
        await audit.record(
            session,
            actor=actor,
            action="register_nppo",
            target=nppo.code,
            reason=reason,
            detail=f"{'channel' if is_channel else 'NPPO'} {nppo.name!r}; "
            f"{'push to ' + push_url if push_url else 'pull'}; allowed "
            + ", ".join(f"{t}:{s}" for t, s in pairs),
        )
        return nppo.code

    async def add_client_certificate(
        self, session: AsyncSession, *, actor: Actor, reason: str, code: str, certificate: bytes
    ) -> str:
        reason = require_reason(reason)
        record = await self._nppos.add_client_certificate(
            session, code=code, certificate=certificate
        )
        await audit.record(
            session,
            actor=actor,
            action="add_client_certificate",
            target=code.upper(),
            reason=reason,
            detail=f"{record.fingerprint_sha256} {record.subject} "
            f"valid to {record.not_after:%Y-%m-%d}",
        )
        return record.fingerprint_sha256

    async def revoke_client_certificate(
        self, session: AsyncSession, *, actor: Actor, reason: str, fingerprint: str
    ) -> str:
        reason = require_reason(reason)
        record = await self._nppos.revoke_client_certificate(
            session, fingerprint=fingerprint.strip(), reason=reason
        )
        await audit.record(
            session,
            actor=actor,
            action="revoke_client_certificate",
            target=record.fingerprint_sha256,
            reason=reason,
        )
        return record.fingerprint_sha256

    async def add_signing_certificate(
        self, session: AsyncSession, *, actor: Actor, reason: str, code: str, certificate: bytes
    ) -> str:
        reason = require_reason(reason)
        record = await self._nppos.add_signing_certificate(
            session, code=code, certificate=certificate
        )
        await audit.record(
            session,
            actor=actor,
            action="add_signing_certificate",
            target=code.upper(),
            reason=reason,
            detail=f"{record.fingerprint_sha256} {record.subject} "
            f"valid to {record.not_after:%Y-%m-%d}",
        )
        return record.fingerprint_sha256

    async def add_channel_rule(
        self,
        session: AsyncSession,
        *,
        actor: Actor,
        reason: str,
        channel_code: str,
        rule_type: RuleType,
        country_code: str,
        direction: Direction,
        certificate_type: int,
        certificate_status: int,
    ) -> int:
        reason = require_reason(reason)
        rule = await self._nppos.add_channel_rule(
            session,
            channel_code=channel_code,
            rule_type=rule_type,
            country_code=country_code,
            direction=direction,
            certificate_type=certificate_type,
            certificate_status=certificate_status,
        )
        await audit.record(
            session,
            actor=actor,
            action="add_channel_rule",
            target=channel_code.upper(),
            reason=reason,
            detail=f"rule {rule.id}: {rule_type.value} {direction.value} {country_code.upper()} "
            f"{certificate_type}:{certificate_status}",
        )
        return rule.id

    async def set_allowed_document(
        self,
        session: AsyncSession,
        *,
        actor: Actor,
        reason: str,
        code: str,
        certificate_type: int,
        certificate_status: int,
        active: bool,
    ) -> None:
        reason = require_reason(reason)
        await self._nppos.set_allowed_document(
            session,
            code=code,
            certificate_type=certificate_type,
            certificate_status=certificate_status,
            active=active,
        )
        await audit.record(
            session,
            actor=actor,
            action="set_allowed_document",
            target=code.upper(),
            reason=reason,
            detail=f"{certificate_type}:{certificate_status} {'allowed' if active else 'refused'}",
        )

    async def set_delivery(
        self, session: AsyncSession, *, actor: Actor, reason: str, code: str, push_url: str | None
    ) -> None:
        reason = require_reason(reason)
        mode = DeliveryMode.PUSH if (push_url or "").strip() else DeliveryMode.PULL
        await self._nppos.set_delivery(session, code=code, delivery_mode=mode, push_url=push_url)
        await audit.record(
            session,
            actor=actor,
            action="set_delivery",
            target=code.upper(),
            reason=reason,
            detail=f"push to {push_url.strip()}" if push_url and push_url.strip() else "pull",
        )
