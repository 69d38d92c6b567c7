"""What the console's front page and destination pages show, assembled from the database and
the routing layer's control state."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from hub.observability import state
from hub.operators import repository
from hub.operators.control import DeliveryControl, DestinationControl


@dataclass(frozen=True, kw_only=True, slots=True)
class DestinationRow:
    code: str
    name: str
    delivery_mode: str
    waiting: int
    oldest_age_seconds: float | None
    delivered_last_hour: int
    failures_last_day: int
    control: DestinationControl | None


async def destinations(
    session: AsyncSession, *, control: DeliveryControl, now: datetime
) -> list[DestinationRow]:
    waiting = await state.waiting_by_box(session)
    delivered = await state.finished_by_box_since(
        session, since=state.hour_before(now), states=state.DELIVERED_STATES
    )
    failed = await state.finished_by_box_since(
        session, since=now - timedelta(days=1), states=state.FAILED_STATES
    )
    controls = await control.states(session)
    nppos = {n.code: n for n in await state.receiving_nppos(session)}
    rows = []
    for code in sorted(set(nppos) | set(waiting)):
        nppo = nppos.get(code)
        box = waiting.get(code)
        rows.append(
            DestinationRow(
                code=code,
                name=nppo.name if nppo else "(not registered)",
                delivery_mode=nppo.delivery_mode if nppo else "-",
                waiting=box.waiting if box else 0,
                oldest_age_seconds=box.oldest_age_seconds(now) if box else None,
                delivered_last_hour=delivered.get(code, 0),
                failures_last_day=failed.get(code, 0),
                control=controls.get(code),
            )
        )
    # The worst first: the oldest waiting envelope is what hurts an importer.
    rows.sort(key=lambda r: (-(r.oldest_age_seconds or 0), r.code))
    return rows


async def failures(session: AsyncSession, *, box_code: str) -> Sequence[repository.Failure]:
    return await repository.recent_failures(session, box_code=box_code, limit=20)


def age(seconds: float | None) -> str:
    """`3 d 4 h`, `2 h 5 min`, `40 s`: as precise as an operator needs."""
    if seconds is None:
        return "-"
    s = int(seconds)
    if s >= 86400:
        return f"{s // 86400} d {s % 86400 // 3600} h"
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60} min"
    if s >= 60:
        return f"{s // 60} min {s % 60} s"
    return f"{s} s"
