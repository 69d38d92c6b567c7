"""The embedded default: no RabbitMQ, the same routing code on the in-process broker, SQLite."""

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from hub.database import unit_of_work
from hub.envelopes.models import EnvelopeRecord
from hub.migrate import upgrade_to_head
from hub.routing.memory import InProcessBroker
from hub.routing.models import OutboxMessage
from hub.routing.workers import RoutingWorkers
from hub.runtime import build_runtime
from tests.hub.routing.conftest import (
    PushPki,
    eventually,
    register,
    routing_settings,
    submit,
)
from tests.hub.routing.receiver import start_receiver


@pytest.fixture
def embedded_url(tmp_path: Path) -> str:
    """A fresh embedded database of the test's own."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'embedded.db'}"
    upgrade_to_head(url)
    return url


async def unrouted(runtime: object) -> int:
    from hub.runtime import HubRuntime

    assert isinstance(runtime, HubRuntime)
    async with unit_of_work(runtime.sessionmaker) as session:
        count = await session.execute(
            select(func.count())
            .select_from(EnvelopeRecord)
            .where(EnvelopeRecord.routed_at.is_(None))
        )
        return int(count.scalar_one())


async def test_embedded_hub_routes_and_pushes_without_rabbitmq(
    embedded_url: str, tmp_path: Path, push_pki: PushPki
) -> None:
    settings = routing_settings(
        database_url=embedded_url,
        data_dir=tmp_path,
        push_client_cert=push_pki.hub_cert,
        push_client_key=push_pki.hub_key,
        push_ca_bundle=push_pki.ca,
    )
    assert settings.run_workers_in_process
    runtime = build_runtime(settings)
    assert isinstance(runtime.broker, InProcessBroker)
    receiver = await start_receiver(
        cert=push_pki.receiver_cert, key=push_pki.receiver_key, client_ca=push_pki.ca
    )
    workers = RoutingWorkers(runtime, refresh_seconds=0.2)
    try:
        aa = await register(runtime, "AA")
        await register(runtime, "BB")
        await register(runtime, "PP", push_url=receiver.url)
        await workers.start()
        pushed = [
            (await submit(runtime, aa, "PP", f"E-P-{i}")).hub_delivery_number for i in range(5)
        ]
        for i in range(5):
            await submit(runtime, aa, "BB", f"E-B-{i}")

        async def all_routed_and_pushed() -> bool:
            return await unrouted(runtime) == 0 and len(receiver.receiver.stored) == 5

        await eventually(all_routed_and_pushed)
        assert sorted(receiver.receiver.stored) == sorted(n or "" for n in pushed)
    finally:
        await workers.stop()
        await receiver.stop()
        await runtime.close()


async def test_embedded_hub_republishes_what_a_stopped_process_had_not_routed(
    embedded_url: str, tmp_path: Path
) -> None:
    settings = routing_settings(database_url=embedded_url, data_dir=tmp_path)
    first = build_runtime(settings)
    aa = await register(first, "AA")
    await register(first, "BB")
    # Accepted and published to the in-process broker, then the process stops before any box
    # consumer ran: the messages die with it, the outbox rows do not.
    for i in range(3):
        await submit(first, aa, "BB", f"E-R-{i}")
    workers = RoutingWorkers(first)
    await workers.relay.publish_batch()
    await first.close()
    assert await unrouted_rows(embedded_url, tmp_path) == 3

    second = build_runtime(settings)
    restarted = RoutingWorkers(second, refresh_seconds=0.2)
    await restarted.start()
    try:
        await eventually(lambda: _none_unrouted(second))
    finally:
        await restarted.stop()
        await second.close()


async def _none_unrouted(runtime: object) -> bool:
    return await unrouted(runtime) == 0


async def unrouted_rows(sqlite_url: str, tmp_path: Path) -> int:
    runtime = build_runtime(routing_settings(database_url=sqlite_url, data_dir=tmp_path))
    try:
        async with unit_of_work(runtime.sessionmaker) as session:
            count = await session.execute(select(func.count()).select_from(OutboxMessage))
            return int(count.scalar_one())
    finally:
        await runtime.close()


def test_worker_command_needs_rabbitmq(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from hub.cli import hub

    monkeypatch.setenv("EPHYTO_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("EPHYTO_BROKER_URL", raising=False)
    result = CliRunner().invoke(hub, ["worker"])
    assert result.exit_code != 0
    assert "EPHYTO_BROKER_URL" in result.output


def test_embedded_settings_refuse_workers_outside_the_process(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must run in process"):
        routing_settings(database_url="sqlite:///x.db", data_dir=tmp_path, workers_in_process=False)


def test_demo_runs_on_rabbitmq_when_the_environment_names_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from ephyto_cli.demo import demo_settings, prepare_pki
    from hub.routing.amqp import AmqpBroker
    from hub.runtime import build_broker

    monkeypatch.setenv("EPHYTO_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/")
    settings = demo_settings(tmp_path, prepare_pki(tmp_path / "pki"), hub_port=8443)
    assert settings.broker_url == "amqp://guest:guest@127.0.0.1:5672/"
    assert settings.run_workers_in_process  # one command, one process, RabbitMQ or not
    assert isinstance(build_broker(settings), AmqpBroker)
    monkeypatch.delenv("EPHYTO_BROKER_URL")
    embedded = demo_settings(tmp_path, prepare_pki(tmp_path / "pki"), hub_port=8443)
    assert isinstance(build_broker(embedded), InProcessBroker)
