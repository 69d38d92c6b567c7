"""The operator audit log: every action, who took it, on what, why, and what came of it.

Entries are written in the same transaction as the action, so an action that rolls back leaves
no entry and an entry always describes something that happened.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.database import utcnow
from hub.operators.exceptions import ReasonRequired
from hub.operators.models import AuditEntry

#: The longest reason kept; a reason is a sentence or two, not a document.
MAX_REASON = 2000


@dataclass(frozen=True, kw_only=True, slots=True)
class Actor:
    """An operator acting through the console or the CLI."""

    username: str
    channel: str = "console"

    @property
    def event_actor(self) -> str:
        """How the operator appears in an envelope's history (`envelope_events.actor`)."""
        return f"operator:{self.username}"[:40]


def require_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise ReasonRequired("every operator action needs a reason", field="reason")
    return text[:MAX_REASON]


async def record(
    session: AsyncSession,
    *,
    actor: Actor,
    action: str,
    target: str,
    reason: str,
    outcome: str = "done",
    detail: str | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        at=utcnow(),
        operator=actor.username,
        action=action,
        target=target[:200],
        reason=reason,
        outcome=outcome,
        detail=detail,
        channel=actor.channel,
    )
    session.add(entry)
    await session.flush()
    return entry


async def entries(
    session: AsyncSession, *, target: str | None = None, limit: int = 200
) -> Sequence[AuditEntry]:
    """Newest first."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if target:
        query = query.where(AuditEntry.target == target)
    return (await session.execute(query)).scalars().all()
