"""/health/live and /health/ready against the real database and broker, up and down."""

import socket
from pathlib import Path

import pytest

from hub.runtime import HubRuntime, build_runtime
from hub.settings import HubSettings
from tests.hub.operators.helpers import client, console_app


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_live_answers_without_touching_anything(runtime: HubRuntime) -> None:
    async with client(console_app(runtime)) as http:
        answer = await http.get("/health/live")
    assert (answer.status_code, answer.json()) == (200, {"status": "live"})


async def test_ready_when_the_database_answers(runtime: HubRuntime) -> None:
    async with client(console_app(runtime)) as http:
        answer = await http.get("/health/ready")
    body = answer.json()
    assert answer.status_code == 200
    assert body["status"] == "ready"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"] == {
        "ok": True,
        "detail": "in-process broker",
        "seconds": body["checks"]["broker"]["seconds"],
    }


@pytest.mark.rabbitmq
async def test_ready_checks_rabbitmq_when_configured(
    postgres_database_url: str, tmp_path: Path
) -> None:
    for broker_url, ok in (
        ("amqp://guest:guest@127.0.0.1:5672/", True),
        (f"amqp://guest:guest@127.0.0.1:{closed_port()}/", False),
    ):
        runtime = build_runtime(
            HubSettings(
                database_url=postgres_database_url, data_dir=tmp_path, broker_url=broker_url
            )
        )
        try:
            async with client(console_app(runtime)) as http:
                answer = await http.get("/health/ready")
        finally:
            await runtime.close()
        broker = answer.json()["checks"]["broker"]
        assert broker["ok"] is ok, broker
        assert answer.status_code == (200 if ok else 503)
        if not ok:
            assert "Connect" in broker["detail"] or "onnection" in broker["detail"]


async def test_not_ready_when_the_database_is_down(tmp_path: Path) -> None:
    runtime = build_runtime(
        HubSettings(
            database_url=f"postgresql://postgres@127.0.0.1:{closed_port()}/none",
            data_dir=tmp_path,
        )
    )
    try:
        async with client(console_app(runtime)) as http:
            answer = await http.get("/health/ready")
    finally:
        await runtime.close()
    body = answer.json()
    assert answer.status_code == 503
    assert body["status"] == "not_ready"
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["database"]["detail"]
