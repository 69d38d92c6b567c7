"""Recording and reading the audit log (the caller's unit of work commits)."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from generic_national_system.audit.models import AuditEntry


async def record(
    session: AsyncSession,
    *,
    tenant_id: int,
    actor: str,
    action: str,
    certificate_id: int | None = None,
    received_id: int | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    detail: str | None = None,
) -> None:
    session.add(
        AuditEntry(
            tenant_id=tenant_id,
            actor=actor,
            action=action,
            certificate_id=certificate_id,
            received_id=received_id,
            from_state=from_state,
            to_state=to_state,
            detail=detail,
        )
    )
    await session.flush()


async def certificate_history(
    session: AsyncSession, *, tenant_id: int, certificate_id: int
) -> Sequence[AuditEntry]:
    rows = await session.scalars(
        select(AuditEntry)
        .where(AuditEntry.tenant_id == tenant_id, AuditEntry.certificate_id == certificate_id)
        .order_by(AuditEntry.id)
    )
    return rows.all()


async def tenant_log(
    session: AsyncSession, *, tenant_id: int, limit: int = 200
) -> Sequence[AuditEntry]:
    """The newest entries first."""
    rows = await session.scalars(
        select(AuditEntry)
        .where(AuditEntry.tenant_id == tenant_id)
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    return rows.all()


async def received_history(
    session: AsyncSession, *, tenant_id: int, received_id: int
) -> Sequence[AuditEntry]:
    rows = await session.scalars(
        select(AuditEntry)
        .where(AuditEntry.tenant_id == tenant_id, AuditEntry.received_id == received_id)
        .order_by(AuditEntry.id)
    )
    return rows.all()
