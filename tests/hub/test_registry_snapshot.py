"""The registry snapshot: rebuilt exactly when the registry changed, whoever changed it, in every
process; never stale, never rebuilt for nothing."""

import pytest
from sqlalchemy import text

from hub.database import unit_of_work
from hub.identity.domain import AuthenticatedNppo
from hub.nppos.domain import Direction, RuleType
from hub.nppos.registry import (
    REGISTRY_TABLES,
    NppoEntry,
    Registry,
    RegistryCache,
    registry_version,
)
from hub.runtime import HubRuntime
from tests.hub.conftest import TestPki


async def token(runtime: HubRuntime) -> str:
    async with runtime.sessionmaker() as session:
        value: str = (await session.execute(registry_version.select())).one().token
        return value


async def snapshot(runtime: HubRuntime, cache: RegistryCache) -> Registry:
    async with unit_of_work(runtime.sessionmaker) as session:
        return await cache.current(session)


# One statement per registry table that changes it without the registry service, as an operator
# fixing data by hand would: the triggers must see them all.
HAND_EDITS = {
    "nppos": "UPDATE nppos SET name = 'renamed' WHERE code = 'AA'",
    "allowed_documents": "DELETE FROM allowed_documents WHERE certificate_status = 40",
    "channel_rules": "UPDATE channel_rules SET active = false",
    "client_certificates": "UPDATE client_certificates SET revocation_reason = 'lost'",
    "signing_certificates": "DELETE FROM signing_certificates",
}


def test_every_registry_table_has_a_hand_edit_case() -> None:
    assert set(HAND_EDITS) == set(REGISTRY_TABLES)


@pytest.mark.parametrize("table", REGISTRY_TABLES)
async def test_any_change_to_a_registry_table_changes_the_token(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], test_pki: TestPki, table: str
) -> None:
    async with unit_of_work(runtime.sessionmaker) as session:  # a row in every table
        await runtime.nppos.add_channel_rule(
            session,
            channel_code="XCH",
            rule_type=RuleType.DELEGATE,
            country_code="CC",
            direction=Direction.INC,
            certificate_type=851,
            certificate_status=70,
        )
        await runtime.nppos.add_signing_certificate(
            session, code="AA", certificate=test_pki.clients["AA"].cert_pem()
        )
    before = await token(runtime)
    async with runtime.engine.begin() as connection:
        await connection.execute(text(HAND_EDITS[table]))
    assert await token(runtime) != before


async def test_the_snapshot_is_built_once_while_nothing_changes(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo]
) -> None:
    cache = RegistryCache()
    for _ in range(5):
        registry = await snapshot(runtime, cache)
    assert cache.loads == 1
    assert set(registry.by_code) == {"AA", "BB", "CC", "XCH"}


async def test_a_change_through_another_process_is_seen_on_the_next_unit_of_work(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], test_pki: TestPki
) -> None:
    """Two caches stand for two hub processes: one revokes, the other's next request knows."""
    here, elsewhere = RegistryCache(), RegistryCache()
    fingerprint = test_pki.clients["AA"].fingerprint
    assert (await snapshot(runtime, elsewhere)).client_certificate(fingerprint) is not None
    async with unit_of_work(runtime.sessionmaker) as session:
        await here.current(session)
        await runtime.nppos.revoke_client_certificate(
            session, fingerprint=fingerprint, reason="key compromised"
        )
    revoked = (await snapshot(runtime, elsewhere)).client_certificate(fingerprint)
    assert revoked is not None and revoked.revoked_at is not None
    assert elsewhere.loads == 2


async def test_a_change_by_hand_is_seen_too(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo]
) -> None:
    cache = RegistryCache()
    assert (await snapshot(runtime, cache)).by_code["BB"].active
    async with runtime.engine.begin() as connection:
        await connection.execute(text("UPDATE nppos SET active = false WHERE code = 'BB'"))
    assert not (await snapshot(runtime, cache)).by_code["BB"].active


def forwarders_of_aa(registry: Registry) -> tuple[NppoEntry, ...]:
    return registry.channels_with_rule(
        rule_type="FORWARD",
        country_code="AA",
        direction="OUT",
        certificate_type=851,
        certificate_status=70,
    )


async def test_a_unit_of_work_sees_the_registry_changes_it_made_itself(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo]
) -> None:
    cache = RegistryCache()
    async with unit_of_work(runtime.sessionmaker) as session:
        assert not forwarders_of_aa(await cache.current(session))
        await runtime.nppos.add_channel_rule(
            session,
            channel_code="XCH",
            rule_type=RuleType.FORWARD,
            country_code="AA",
            direction=Direction.OUT,
            certificate_type=851,
            certificate_status=70,
        )
        channels = forwarders_of_aa(await cache.current(session))
    assert [channel.code for channel in channels] == ["XCH"]


async def test_a_rolled_back_change_leaves_the_registry_as_it_was(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo]
) -> None:
    cache = RegistryCache()
    await snapshot(runtime, cache)
    async with runtime.sessionmaker() as session:
        await session.execute(text("UPDATE nppos SET can_send = false WHERE code = 'AA'"))
        assert not (await cache.current(session)).by_code["AA"].can_send
        await session.rollback()
    assert (await snapshot(runtime, cache)).by_code["AA"].can_send
