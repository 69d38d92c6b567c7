"""Every SQL statement about the NPPO registry."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from hub.nppos.models import ChannelRule, ClientCertificate, Nppo, SigningCertificate


async def get_by_code(session: AsyncSession, code: str) -> Nppo | None:
    result = await session.execute(select(Nppo).where(Nppo.code == code))
    return result.scalar_one_or_none()


async def get_full(session: AsyncSession, code: str) -> Nppo | None:
    """The NPPO with everything its profile shows, loaded in a fixed number of queries."""
    result = await session.execute(
        select(Nppo)
        .where(Nppo.code == code)
        .options(
            selectinload(Nppo.allowed_documents),
            selectinload(Nppo.channel_rules),
            selectinload(Nppo.signing_certificates),
        )
    )
    return result.scalar_one_or_none()


async def list_full(session: AsyncSession, *, active_only: bool = True) -> Sequence[Nppo]:
    query = (
        select(Nppo)
        .order_by(Nppo.code)
        .options(
            selectinload(Nppo.allowed_documents),
            selectinload(Nppo.channel_rules),
            selectinload(Nppo.signing_certificates),
        )
    )
    if active_only:
        query = query.where(Nppo.active.is_(True))
    return (await session.execute(query)).scalars().all()


async def list_channels(session: AsyncSession) -> Sequence[Nppo]:
    query = select(Nppo).where(Nppo.is_channel.is_(True), Nppo.active.is_(True))
    return (await session.execute(query.order_by(Nppo.code))).scalars().all()


async def get_client_certificate(
    session: AsyncSession, fingerprint_sha256: str
) -> tuple[ClientCertificate, Nppo] | None:
    result = await session.execute(
        select(ClientCertificate, Nppo)
        .join(Nppo, ClientCertificate.nppo_id == Nppo.id)
        .where(ClientCertificate.fingerprint_sha256 == fingerprint_sha256)
    )
    row = result.one_or_none()
    return (row[0], row[1]) if row else None


async def list_client_certificates(
    session: AsyncSession, *, nppo_code: str | None = None
) -> Sequence[tuple[ClientCertificate, str]]:
    query = select(ClientCertificate, Nppo.code).join(Nppo, ClientCertificate.nppo_id == Nppo.id)
    if nppo_code:
        query = query.where(Nppo.code == nppo_code)
    rows = await session.execute(query.order_by(Nppo.code, ClientCertificate.not_before))
    return [(row[0], row[1]) for row in rows]


async def active_rules(
    session: AsyncSession,
    *,
    rule_type: str,
    country_code: str,
    direction: str,
    certificate_type: int,
    certificate_status: int,
) -> Sequence[tuple[ChannelRule, Nppo]]:
    """Active rules of active channels that match one envelope, oldest rule first."""
    result = await session.execute(
        select(ChannelRule, Nppo)
        .join(Nppo, ChannelRule.nppo_id == Nppo.id)
        .where(
            ChannelRule.active.is_(True),
            Nppo.active.is_(True),
            ChannelRule.rule_type == rule_type,
            ChannelRule.country_code == country_code,
            ChannelRule.direction == direction,
            ChannelRule.certificate_type == certificate_type,
            ChannelRule.certificate_status == certificate_status,
        )
        .order_by(ChannelRule.id)
    )
    return [(row[0], row[1]) for row in result]


async def signing_certificates(session: AsyncSession, nppo_id: int) -> Sequence[SigningCertificate]:
    result = await session.execute(
        select(SigningCertificate)
        .where(SigningCertificate.nppo_id == nppo_id)
        .order_by(SigningCertificate.not_before)
    )
    return result.scalars().all()
