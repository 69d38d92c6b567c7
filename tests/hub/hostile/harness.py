"""What every hostile case shares: the hub it runs against, how a request is measured, and how an
answer is read back into one comparable outcome.

Every case checks the same invariants, whatever it sends:

- the answer is a clear refusal (a SOAP fault, a `FailedDelivery` header, a 4xx problem, a SEVERE
  validation finding) or a deliberate acceptance, never a server error;
- it arrives within `MAX_SECONDS`, and the request costs at most `MAX_PYTHON_PEAK` of Python
  allocations and `MAX_RESIDENT_GROWTH` of resident memory (where libxml2's trees live);
- nothing leaks: no traceback, no driver name, no file content, no secret marker;
- nothing is fetched from the network;
- a refused request leaves every table's row count as it was.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import http.server
import json
import re
import threading
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import FastAPI
from lxml import etree
from sqlalchemy import func, select

from ephyto_core._namespaces import HUB, HUB_ENTITIES, SOAP_ENV
from ephyto_core._pki import IssuedCertificate, issue_signing_certificate
from hub.database import Base
from hub.runtime import HubRuntime
from hub.soap.endpoints import SOAP_PATH
from tests.hub import conftest as hub_fixtures

#: Bounds on handling one hostile request in-process, not speed targets. Time is bounded as CPU
#: time of this process (the hub's threads included), which other load on the machine does not
#: inflate, and as wall time with a wide margin, against hangs. The costliest accepted case (a
#: 3 MB document of a million entity references, base64 in a SOAP body) takes ~0.4 s of CPU.
MAX_CPU_SECONDS = 5.0
MAX_SECONDS = 30.0
MAX_PYTHON_PEAK = 96 * 1024 * 1024
MAX_RESIDENT_GROWTH = 160 * 1024 * 1024

MARKER = "TOP-SECRET-5b1d07"

#: What must never appear in an answer: a traceback, a database driver's name, a file's content.
LEAK_PATTERNS = re.compile(
    r"Traceback \(most recent|File \"/|sqlalchemy|asyncpg|aiosqlite|IntegrityError|"
    r"root:x:0:0|" + MARKER,
    re.IGNORECASE,
)

_NS = {"soap": SOAP_ENV, "hub": HUB, "ent": HUB_ENTITIES}


# ------------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class CaseRecord:
    suite: str
    case: str
    carrier: str
    expected: str
    observed: str
    seconds: float
    cpu_seconds: float
    python_peak: int
    resident_growth: int | None
    rows: str


#: Every measured case of the run, printed as a table at the end (see conftest).
RECORDS: list[CaseRecord] = []


# ------------------------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class Observed:
    """One answer, reduced to what the cases compare: its kind, a code and a message."""

    status: int
    #: fault | failed-delivery | accepted | problem | findings | ok | other
    kind: str
    code: str | None
    message: str
    text: str = field(repr=False, default="")

    def __str__(self) -> str:
        shown = self.message if len(self.message) <= 70 else self.message[:69] + "…"
        if self.kind == "fault":
            return f"{self.status} soap:{self.code}: {shown}"
        if self.kind == "failed-delivery":
            return f"{self.status} FailedDelivery: {shown}"
        if self.kind == "accepted":
            return f"{self.status} accepted ({self.code})"
        if self.kind == "problem":
            return f"{self.status} {self.code}: {shown}"
        if self.kind == "findings":
            return f"{self.status} findings {self.code}: {shown}"
        return f"{self.status} {self.kind}"


def read_soap(response: httpx.Response) -> Observed:
    text = response.text
    try:
        envelope = etree.fromstring(response.content)
    except etree.XMLSyntaxError:
        return Observed(response.status_code, "other", None, text[:200], text)
    fault = envelope.find("soap:Body/soap:Fault", _NS)
    if fault is not None:
        code = (fault.findtext("faultcode") or "").partition(":")[2]
        message = fault.findtext("detail/hub:HubWebException/hub:message", namespaces=_NS)
        return Observed(response.status_code, "fault", code, message or "", text)
    body = envelope.find("soap:Body", _NS)
    (answer,) = body if body is not None else [envelope]
    state = answer.findtext(".//ent:HUBTrackingInfo", namespaces=_NS)
    if state == "FailedDelivery":
        message = answer.findtext(".//ent:hubDeliveryErrorMessage", namespaces=_NS) or ""
        return Observed(response.status_code, "failed-delivery", state, message, text)
    if state == "PendingDelivery":
        number = answer.findtext(".//ent:hubDeliveryNumber", namespaces=_NS)
        return Observed(response.status_code, "accepted", number, "", text)
    if etree.QName(answer).localname == "ValidatePhytoXMLResponse":
        return _findings(
            response.status_code,
            [
                {"level": row.findtext("level"), "msg": row.findtext("msg") or ""}
                for row in answer.findall("hub:ValidationResult", _NS)
            ],
            text,
        )
    return Observed(response.status_code, "ok", state, "", text)


def read_rest(response: httpx.Response) -> Observed:
    text = response.text
    if response.headers.get("content-type") == "application/problem+json":
        problem = response.json()
        return Observed(response.status_code, "problem", problem["code"], problem["detail"], text)
    try:
        body = response.json()
    except ValueError:
        return Observed(response.status_code, "other", None, text[:200], text)
    if isinstance(body, dict) and body.get("tracking_info") == "PendingDelivery":
        return Observed(response.status_code, "accepted", body["hub_delivery_number"], "", text)
    if isinstance(body, list) and all(isinstance(row, dict) and "level" in row for row in body):
        return _findings(response.status_code, body, text)
    return Observed(response.status_code, "ok", None, "", text)


def _findings(status: int, rows: list[dict[str, Any]], text: str) -> Observed:
    severe = [row["msg"] for row in rows if row["level"] == "SEVERE"]
    return Observed(status, "findings", "SEVERE" if severe else "none", "; ".join(severe), text)


def assert_no_server_error(observed: Observed) -> None:
    """No 5xx for bad input: the only 500 allowed is a SOAP fault that blames the client."""
    if observed.kind == "fault":
        assert observed.code in ("Client", "VersionMismatch", "MustUnderstand"), observed
        assert observed.status == 500, observed
    else:
        assert observed.status < 500, observed


def assert_nothing_leaks(observed: Observed) -> None:
    leak = LEAK_PATTERNS.search(observed.text)
    assert leak is None, f"the answer shows {leak.group()!r}: {observed.text[:500]}"


# ------------------------------------------------------------------------------- measuring


@dataclass(frozen=True)
class Cost:
    seconds: float
    cpu_seconds: float
    python_peak: int
    resident_growth: int | None

    def assert_bounded(self) -> None:
        assert self.cpu_seconds < MAX_CPU_SECONDS, self
        assert self.seconds < MAX_SECONDS, self
        assert self.python_peak < MAX_PYTHON_PEAK, self
        if self.resident_growth is not None:
            assert self.resident_growth < MAX_RESIDENT_GROWTH, self


class _Resident:
    """Peak growth of resident memory (Linux): freed heap returned first, high-water mark reset."""

    def __init__(self) -> None:
        self.available = Path("/proc/self/clear_refs").exists()
        libc_name = ctypes.util.find_library("c")
        self._trim = getattr(ctypes.CDLL(libc_name), "malloc_trim", None) if libc_name else None

    def start(self) -> int | None:
        if not self.available:
            return None
        if self._trim is not None:
            self._trim(0)
        try:
            Path("/proc/self/clear_refs").write_text("5")
        except OSError:
            self.available = False
            return None
        return _status_kb("VmRSS")

    def growth(self, before: int | None) -> int | None:
        if before is None:
            return None
        return (_status_kb("VmHWM") - before) * 1024


def _status_kb(name: str) -> int:
    found = re.search(rf"^{name}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    assert found is not None, name
    return int(found.group(1))


_RESIDENT = _Resident()


async def measured(call: Callable[[], Awaitable[httpx.Response]]) -> tuple[httpx.Response, Cost]:
    before = _RESIDENT.start()
    tracemalloc.start()
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        response = await call()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return response, Cost(seconds, cpu, peak, _RESIDENT.growth(before))


# ------------------------------------------------------------------------------- the hub

#: AA's content-signing certificate, registered on every hostile hub: signed content is checked.
_SIGNERS: dict[str, IssuedCertificate] = {}


def aa_signer(pki: hub_fixtures.TestPki) -> IssuedCertificate:
    if "AA" not in _SIGNERS:
        _SIGNERS["AA"] = issue_signing_certificate(pki.ca, nppo_code="AA")
    return _SIGNERS["AA"]


@dataclass
class HostileHub:
    runtime: HubRuntime
    app: FastAPI
    pki: hub_fixtures.TestPki
    backend: str
    _clients: dict[tuple[str, str | None], httpx.AsyncClient] = field(default_factory=dict)

    def client(self, face: str, code: str | None = "AA") -> httpx.AsyncClient:
        """An in-process client presenting `code`'s certificate the way a trusted TLS proxy
        passes it (see tests/hub/rest/conftest.py); `None` presents none."""
        key = (face, code)
        if key not in self._clients:
            headers = {}
            if code is not None:
                headers["X-Client-Cert"] = quote(self.pki.clients[code].cert_pem().decode())
            base = "http://hub.test" + ("/api/v1" if face == "rest" else "")
            self._clients[key] = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=self.app, raise_app_exceptions=False),
                base_url=base,
                headers=headers,
                timeout=30,
            )
        return self._clients[key]

    async def soap(self, body: bytes, *, code: str | None = "AA") -> httpx.Response:
        return await self.client("soap", code).post(
            SOAP_PATH, content=body, headers={"Content-Type": "text/xml; charset=utf-8"}
        )

    async def rest(
        self,
        method: str,
        path: str,
        *,
        code: str | None = "AA",
        json_body: Any = None,
        content: bytes | None = None,
        content_type: str | None = None,
    ) -> httpx.Response:
        headers = {}
        if json_body is not None:
            content = json.dumps(json_body).encode()
            content_type = content_type or "application/json"
        if content_type is not None:
            headers["Content-Type"] = content_type
        return await self.client("rest", code).request(
            method, path, content=content, headers=headers
        )

    async def rows(self) -> dict[str, int]:
        """Rows per table, in one round trip: proof that a refused request left nothing."""
        tables = Base.metadata.sorted_tables
        query = select(*(select(func.count()).select_from(t).scalar_subquery() for t in tables))
        async with self.runtime.sessionmaker() as session:
            counts = (await session.execute(query)).one()
        return {table.name: count for table, count in zip(tables, counts, strict=True)}

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()


def rows_change(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {
        table: after[table] - before[table] for table in before if after[table] != before[table]
    }


def describe_rows(change: dict[str, int]) -> str:
    if not change:
        return "unchanged"
    return ", ".join(f"{table} {delta:+d}" for table, delta in sorted(change.items()))


# ------------------------------------------------------------------------------- the network


class RecordingServer:
    """An HTTP server on 127.0.0.1 that notes every request: hostile inputs point at it."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        requests = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                requests.append(self.path)
                body = MARKER.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> RecordingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()


@dataclass(frozen=True)
class Secrets:
    """A file holding the marker, and a DTD defining an entity as the marker."""

    text: Path
    dtd: Path

    @classmethod
    def create(cls, folder: Path) -> Secrets:
        text = folder / "secret.txt"
        text.write_text(MARKER)
        dtd = folder / "secret.dtd"
        dtd.write_text(f'<!ENTITY from-the-dtd "{MARKER}">')
        return cls(text=text, dtd=dtd)
