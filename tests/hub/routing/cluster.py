"""Real hub and worker processes (`ephyto hub serve`, `ephyto hub worker`) and an NPPO's REST
client that fails over between hubs: what the fault-injection test and the benchmark run."""

import asyncio
import itertools
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx

EPHYTO = str(Path(sys.executable).with_name("ephyto"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ClusterConfig:
    database_url: str
    broker_url: str
    broker_prefix: str
    data_dir: Path
    tls_cert: Path
    tls_key: Path
    client_ca: Path
    push_cert: Path
    push_key: Path
    extra: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("EPHYTO_")}
        env.update(
            {
                "EPHYTO_DATABASE_URL": self.database_url,
                "EPHYTO_BROKER_URL": self.broker_url,
                "EPHYTO_BROKER_PREFIX": self.broker_prefix,
                "EPHYTO_DATA_DIR": str(self.data_dir),
                "EPHYTO_TLS_CERT": str(self.tls_cert),
                "EPHYTO_TLS_KEY": str(self.tls_key),
                "EPHYTO_TLS_CLIENT_CA": str(self.client_ca),
                "EPHYTO_PUSH_CLIENT_CERT": str(self.push_cert),
                "EPHYTO_PUSH_CLIENT_KEY": str(self.push_key),
                "EPHYTO_PUSH_CA_BUNDLE": str(self.client_ca),
                **self.extra,
            }
        )
        return env


class ManagedProcess:
    def __init__(self, name: str, args: Sequence[str], config: ClusterConfig) -> None:
        self.name = name
        self.args = list(args)
        self.config = config
        self.log_path = config.data_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.args, env=self.config.env(), stdout=log, stderr=subprocess.STDOUT
        )
        log.close()

    def kill9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class HubProcess(ManagedProcess):
    def __init__(self, name: str, config: ClusterConfig, *, port: int | None = None) -> None:
        self.port = port or free_port()
        super().__init__(
            name,
            [EPHYTO, "hub", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            config,
        )

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    async def wait_ready(self, context: ssl.SSLContext, *, within: float = 60) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        async with httpx.AsyncClient(verify=context, timeout=2) as client:
            while True:
                if not self.alive():
                    raise RuntimeError(f"{self.name} exited:\n{self.log_tail()}")
                try:
                    response = await client.get(f"{self.url}/hub/DeliveryService?wsdl")
                    if response.status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if loop.time() > deadline:
                    raise RuntimeError(f"{self.name} not ready:\n{self.log_tail()}")
                await asyncio.sleep(0.2)


class WorkerProcess(ManagedProcess):
    def __init__(self, name: str, config: ClusterConfig) -> None:
        super().__init__(name, [EPHYTO, "hub", "worker"], config)


def client_context(*, ca: Path, cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca))
    context.load_cert_chain(cert, key)
    return context


class NppoClient:
    """One NPPO's national system over the REST face, with failover between hub processes:
    a request that gets no answer is repeated on the next hub (submissions are idempotent: the
    hub answers a repeated envelope with the original).

    aiohttp, not httpx: the benchmark's load generator shares the two cores with the hub, and
    httpx spent ~4 ms of CPU per 41 KB HTTPS request against aiohttp's ~0.4 ms (measured with
    the same bare uvicorn server), so with httpx the client, not the hub, used most of the CPU.
    """

    def __init__(self, code: str, hubs: Sequence[str], context: ssl.SSLContext) -> None:
        """Create it inside the event loop that will use it (an aiohttp session belongs to one)."""
        self.code = code
        self._hubs = itertools.cycle(hubs)
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=context, limit=64),
            timeout=aiohttp.ClientTimeout(total=30, connect=5),
        )
        self.retries = 0

    async def aclose(self) -> None:
        await self._session.close()

    async def _call(self, method: str, path: str, *, attempts: int = 200, **kw: Any) -> Any:
        for _ in range(attempts):
            base = next(self._hubs)
            try:
                async with self._session.request(method, f"{base}/api/v1{path}", **kw) as response:
                    status = response.status
                    body = await response.read()
            except (aiohttp.ClientError, TimeoutError):
                self.retries += 1
                await asyncio.sleep(0.05)
                continue
            if status >= 500:
                self.retries += 1
                await asyncio.sleep(0.05)
                continue
            if status >= 400:
                raise AssertionError(f"{method} {path}: {status} {body.decode(errors='replace')}")
            return json.loads(body)
        raise AssertionError(f"{method} {path}: no hub answered")

    async def submit(
        self,
        *,
        to: str,
        number: str,
        content: str,
        forwardings: Sequence[str] = (),
        validate_first: bool = True,
    ) -> dict[str, Any]:
        header: dict[str, Any] = await self._call(
            "POST",
            "/envelopes",
            json={
                "from": self.code,
                "to": to,
                "certificate_type": 851,
                "certificate_status": 70,
                "nppo_certificate_number": number,
                "forwardings": list(forwardings),
                "content": content,
                "validate_first": validate_first,
            },
        )
        return header

    async def waiting(self) -> list[dict[str, Any]]:
        headers: list[dict[str, Any]] = await self._call("GET", "/boxes/mine/envelopes")
        return headers

    async def pull_all(self) -> list[dict[str, Any]]:
        envelopes: list[dict[str, Any]] = await self._call("POST", "/boxes/mine/pull")
        return envelopes

    async def pull(self, number: str) -> dict[str, Any]:
        envelope: dict[str, Any] = await self._call("GET", f"/envelopes/{number}")
        return envelope

    async def acknowledge_all(self, numbers: Sequence[str]) -> list[dict[str, Any]]:
        """Acknowledge (ok) what a pull brought, in one request; each result in order."""
        answer: dict[str, Any] = await self._call(
            "POST",
            "/boxes/mine/acknowledgements",
            json={"acknowledgements": [{"number": n, "kind": "ok"} for n in numbers]},
        )
        results: list[dict[str, Any]] = answer["results"]
        return results

    async def acknowledge(self, number: str) -> dict[str, Any]:
        header: dict[str, Any] = await self._call(
            "POST", f"/envelopes/{number}/acknowledgement", json={"kind": "ok"}
        )
        return header
