"""The floor under one exchanged envelope: what its unavoidable parts cost on this machine, raw.

An envelope exchanged end to end needs at least: its submission as an HTTPS request with mutual
TLS, one XSD validation of the certificate, one broker round trip (publish with confirm, consume
with ack), and one durable PostgreSQL commit (its acceptance). The pull and the acknowledgement
come in batches of up to 100 envelopes (`POST /boxes/mine/pull`, `POST
/boxes/mine/acknowledgements`), as do routing's commits, so their share is left out: this is a
lower bound. (An importer on the SOAP contract acknowledges one envelope per call, which adds a
request and a commit per envelope.) Each part is measured here with nothing of the hub in it,
as CPU milliseconds of every process involved:

- ``https_request``: the same JSON body (the certificate in a JSON string, as the REST face takes
  it) POSTed to a bare ASGI app that reads it, parses the JSON and answers a small JSON object,
  served by uvicorn with httptools on uvloop with mutual TLS, from an aiohttp client on uvloop
  (the cheapest Python client measured: httpx costs ten times as much);
- ``validation``: lxml parse + XSD validation of the certificate with the hub's compiled schema;
- ``broker_round_trip``: measured by the exchange benchmark's reference phase (client and
  RabbitMQ CPU);
- ``postgres_commit``: asyncpg inserting the certificate's bytes as one row (LZ4-compressed by
  PostgreSQL, as the hub stores contents) and committing, 16 at a time, client and PostgreSQL
  CPU.

Adding them up gives a lower bound for any hub built from these parts (Python, uvicorn, lxml,
RabbitMQ, PostgreSQL) on this machine; the exchange benchmark prints it next to the goal's CPU
budget (2 cores / goal rate) and the hub's measured CPU per envelope.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from lxml import etree

from benchmarks.support import cpu_seconds
from ephyto_core._schemas import default_schema_set

#: What one envelope needs of each part at least (see the module docstring).
PARTS_PER_ENVELOPE = {
    "https_request": 1,
    "validation": 1,
    "broker_round_trip": 1,
    "postgres_commit": 1,
}

BARE_APP = "benchmarks.bare_app:app"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


async def _closed_loop(call: Callable[[], Awaitable[None]], *, count: int, tasks: int) -> None:
    remaining = iter(range(count))

    async def lane() -> None:
        for _ in remaining:
            await call()

    await asyncio.gather(*(lane() for _ in range(tasks)))


def _start_bare_server(*, ca: Path, cert: Path, key: Path, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            *("-m", "uvicorn", BARE_APP, "--app-dir", str(PROJECT_ROOT)),
            *("--host", "127.0.0.1", "--port", str(port)),
            *("--http", "httptools", "--loop", "uvloop", "--log-level", "warning"),
            "--no-access-log",
            *("--ssl-certfile", str(cert), "--ssl-keyfile", str(key), "--ssl-ca-certs", str(ca)),
            # CERT_REQUIRED: the client presents its certificate, as NPPOs do.
            *("--ssl-cert-reqs", "2"),
        ]
    )


async def https_request(
    *, body: bytes, ca: Path, cert: Path, key: Path, client_ssl: Any, port: int, count: int
) -> dict[str, float]:
    """CPU ms per request of a bare uvicorn server (httptools, uvloop, mutual TLS) and this
    process's aiohttp client, POSTing ``body``."""
    server = _start_bare_server(ca=ca, cert=cert, key=key, port=port)
    url = f"https://127.0.0.1:{port}/envelopes"
    headers = {"content-type": "application/json"}
    try:
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=client_ssl, limit=32)
        ) as session:

            async def post() -> None:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.json()

            for _ in range(100):  # until the server listens
                try:
                    await post()
                    break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            await _closed_loop(post, count=200, tasks=32)  # warm: connections, TLS sessions
            server_before, client_before = cpu_seconds(server.pid), time.process_time()
            await _closed_loop(post, count=count, tasks=32)
            server_ms = (cpu_seconds(server.pid) - server_before) * 1000 / count
            client_ms = (time.process_time() - client_before) * 1000 / count
    finally:
        server.terminate()
        server.wait(timeout=10)
    return {"server": server_ms, "client": client_ms, "total": server_ms + client_ms}


def validation(document: bytes, *, count: int) -> dict[str, float]:
    """CPU ms of lxml parse + XSD validation with the hub's compiled certificate schema."""
    schema = default_schema_set().certificate
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    assert schema.validate(etree.fromstring(document, parser)), schema.error_log
    started = time.process_time()
    for _ in range(count):
        schema.validate(etree.fromstring(document, parser))
    ms = (time.process_time() - started) * 1000 / count
    return {"total": ms}


async def postgres_commit(
    dsn: str, *, data: bytes, count: int, postgres_cpu: Callable[[], float]
) -> dict[str, float]:
    """CPU ms per committed one-row insert of ``data`` (asyncpg, 16 connections)."""
    pool = await asyncpg.create_pool(dsn, min_size=16, max_size=16)
    try:
        await pool.execute(
            "CREATE TABLE IF NOT EXISTS floor_probe (id bigserial PRIMARY KEY, data bytea)"
        )
        with contextlib.suppress(asyncpg.PostgresError):  # a server built without LZ4
            await pool.execute("ALTER TABLE floor_probe ALTER COLUMN data SET COMPRESSION lz4")

        async def insert() -> None:
            async with pool.acquire() as connection, connection.transaction():
                await connection.execute("INSERT INTO floor_probe (data) VALUES ($1)", data)

        await _closed_loop(insert, count=200, tasks=16)
        server_before, client_before = postgres_cpu(), time.process_time()
        await _closed_loop(insert, count=count, tasks=16)
        server_ms = (postgres_cpu() - server_before) * 1000 / count
        client_ms = (time.process_time() - client_before) * 1000 / count
        await pool.execute("DROP TABLE floor_probe")
    finally:
        await pool.close()
    return {"server": server_ms, "client": client_ms, "total": server_ms + client_ms}


def per_envelope(parts: dict[str, dict[str, float]]) -> float:
    """The floor: each part's CPU ms times how often an envelope needs it."""
    return sum(parts[name]["total"] * times for name, times in PARTS_PER_ENVELOPE.items())
