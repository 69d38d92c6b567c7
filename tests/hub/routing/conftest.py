"""Routing fixtures: a private RabbitMQ vhost per test session, PostgreSQL, NPPOs with push
receivers, and helpers to run the routing workers.

Every test gets its own broker prefix (exchange and queue names), so the queues of one test
never hold another's messages; the vhost, with everything in it, is deleted at the end.
"""

import asyncio
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from ephyto_core._pki import issue_client_certificate, issue_server_certificate
from ephyto_core.certificate import build_certificate_xml
from hub.database import unit_of_work
from hub.envelopes.domain import EnvelopeHeader, Forwarding
from hub.identity.domain import AuthenticatedNppo
from hub.nppos.domain import DeliveryMode
from hub.runtime import HubRuntime, build_runtime
from hub.settings import HubSettings
from tests.core.factories import make_certificate

T = TypeVar("T")

RABBITMQ_HOST = "127.0.0.1:5672"


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def rabbitmq_url() -> Iterator[str]:
    """amqp:// URL of a vhost of our own on the machine's RabbitMQ, deleted afterwards."""
    vhost = f"ephyto_test_{uuid.uuid4().hex[:10]}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    yield f"amqp://guest:guest@{RABBITMQ_HOST}/{vhost}"
    rabbitmqctl("delete_vhost", vhost)


def routing_settings(
    *, database_url: str, data_dir: Path, broker_url: str = "", **overrides: Any
) -> HubSettings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "broker_url": broker_url,
        "broker_prefix": f"t{uuid.uuid4().hex[:8]}",
        "trusted_proxies": ["127.0.0.1/32"],
        # Short enough for tests to see retries, circuits and republication happen.
        "outbox_republish_after_seconds": 2.0,
        "push_timeout_seconds": 2.0,
        "push_backoff_base_seconds": 0.05,
        "push_backoff_max_seconds": 0.5,
        "push_circuit_open_seconds": 0.5,
        "push_max_attempts": 6,
    }
    values.update(overrides)
    return HubSettings(**values)


@pytest.fixture
async def amqp_runtime(
    postgres_database_url: str, rabbitmq_url: str, tmp_path: Path
) -> AsyncIterator[HubRuntime]:
    runtime = build_runtime(
        routing_settings(
            database_url=postgres_database_url, data_dir=tmp_path, broker_url=rabbitmq_url
        )
    )
    yield runtime
    await runtime.close()


async def run(runtime: HubRuntime, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async with unit_of_work(runtime.sessionmaker) as session:
        return await work(session)


async def register(
    runtime: HubRuntime,
    code: str,
    *,
    push_url: str | None = None,
    is_channel: bool = False,
) -> AuthenticatedNppo:
    async def work(session: AsyncSession) -> None:
        await runtime.nppos.register(
            session,
            code=code,
            name=f"NPPO {code}",
            is_channel=is_channel,
            delivery_mode=DeliveryMode.PUSH if push_url else DeliveryMode.PULL,
            push_url=push_url,
        )

    await run(runtime, work)
    return AuthenticatedNppo(code=code, certificate_fingerprint="0" * 64, is_channel=is_channel)


_CONTENT_CACHE: dict[int, bytes] = {}


def certificate(number: str) -> bytes:
    """A small valid certificate with this number (the content is otherwise shared)."""
    template = _CONTENT_CACHE.get(0)
    if template is None:
        template = build_certificate_xml(make_certificate(certificate_number="TEMPLATE-0000001"))
        _CONTENT_CACHE[0] = template
    return template.replace(b"TEMPLATE-0000001", number.encode())


async def submit(
    runtime: HubRuntime,
    sender: AuthenticatedNppo,
    to: str,
    number: str,
    *,
    forwardings: tuple[str, ...] = (),
) -> EnvelopeHeader:
    header = EnvelopeHeader(
        from_code=sender.code,
        to_code=to,
        certificate_type=851,
        certificate_status=70,
        nppo_certificate_number=number,
        forwardings=tuple(Forwarding(code=c) for c in forwardings),
    )
    submission = await run(
        runtime,
        lambda s: runtime.envelopes.deliver(
            s, caller=sender, header=header, content=certificate(number), validate_first=False
        ),
    )
    return submission.header


async def eventually(
    check: Callable[[], Awaitable[bool]], *, within: float = 20.0, every: float = 0.05
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"not reached within {within}s")
        await asyncio.sleep(every)


@dataclass(frozen=True)
class PushPki:
    ca: Path
    receiver_cert: Path
    receiver_key: Path
    hub_cert: Path
    hub_key: Path
    hub_fingerprint: str


@pytest.fixture(scope="session")
def push_pki(test_pki: Any, tmp_path_factory: pytest.TempPathFactory) -> PushPki:
    """A receiver's server certificate and the hub's own TLS client identity, from the test CA."""
    directory = tmp_path_factory.mktemp("push-pki")
    server = issue_server_certificate(test_pki.ca).save(directory, "receiver")
    hub_client = issue_client_certificate(test_pki.ca, nppo_code="HUB").save(directory, "hub")
    assert server.cert_path and server.key_path and hub_client.cert_path and hub_client.key_path
    return PushPki(
        ca=test_pki.ca.cert_path,
        receiver_cert=server.cert_path,
        receiver_key=server.key_path,
        hub_cert=hub_client.cert_path,
        hub_key=hub_client.key_path,
        hub_fingerprint=hub_client.fingerprint,
    )
