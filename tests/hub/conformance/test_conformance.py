"""`ephyto conformance` against our own hub over real mutual TLS (uvicorn on loopback), and
against two deliberately broken hubs: one that drops acknowledgements, one that mangles the
headers it answers. The first must pass every check; the others must fail with findings that
say what is wrong."""

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes

from ephyto_core._pki import issue_server_certificate, issue_signing_certificate
from hub.app import create_app
from hub.conformance import ConformanceTarget, Outcome, Report, run_conformance, verify_report
from hub.conformance.cli import conformance
from hub.conformance.client import Credentials
from hub.database import unit_of_work
from hub.identity.server import run_in_thread
from hub.identity.tls import make_uvicorn_config
from hub.runtime import build_runtime
from hub.settings import HubSettings
from tests.hub import conftest as hub_fixtures

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


class DropsAcknowledgements:
    """A broken hub: answers AcknowledgeEnvelopeReceipt with success and forgets it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if b"<hub:AcknowledgeEnvelopeReceipt>" in body:
            answer = (
                b"<?xml version='1.0' encoding='utf-8'?><soap:Envelope xmlns:soap="
                b"'http://schemas.xmlsoap.org/soap/envelope/'><soap:Body>"
                b"<hub:AcknowledgeEnvelopeReceiptResponse xmlns:hub='http://ephyto.ippc.int/'/>"
                b"</soap:Body></soap:Envelope>"
            )
            headers = [(b"content-type", b"text/xml; charset=utf-8")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": answer})
            return None
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if replayed:
                return dict(await receive())
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)


class MangledHeaders:
    """A broken hub: writes hubDeliveryNumber as HubDeliveryNumber in its answers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def collect(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                body = b"".join(chunks).replace(b"hubDeliveryNumber>", b"HubDeliveryNumber>")
                headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
                headers.append((b"content-length", str(len(body)).encode()))
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": body})

        return await self.app(scope, receive, collect)


async def _register(settings: HubSettings, pki: hub_fixtures.TestPki, signing_pem: bytes) -> None:
    runtime = build_runtime(settings)
    try:
        async with unit_of_work(runtime.sessionmaker) as session:
            for code in ("AA", "BB"):
                await runtime.nppos.register(session, code=code, name=f"NPPO {code}")
                await runtime.nppos.add_client_certificate(
                    session, code=code, certificate=pki.clients[code].cert_pem()
                )
            await runtime.nppos.add_signing_certificate(session, code="AA", certificate=signing_pem)
    finally:
        await runtime.close()


@pytest.fixture(scope="module")
def hub_settings(
    sqlite_url: str, tmp_path_factory: pytest.TempPathFactory, test_pki: hub_fixtures.TestPki
) -> Iterator[tuple[HubSettings, Path]]:
    directory = tmp_path_factory.mktemp("conformance-hub")
    asyncio.run(hub_fixtures._empty(sqlite_url))
    # No trusted proxies: the NPPO is whoever the TLS handshake proved.
    settings = HubSettings(database_url=sqlite_url, data_dir=directory)
    signing = issue_signing_certificate(test_pki.ca, nppo_code="AA")
    asyncio.run(_register(settings, test_pki, signing.cert_pem()))
    issue_server_certificate(test_pki.ca).save(directory, "hub")
    yield settings, directory
    asyncio.run(hub_fixtures._empty(sqlite_url))


def _serve(
    settings: HubSettings, directory: Path, pki: hub_fixtures.TestPki, wrap: Any = None
) -> Any:
    app = create_app(runtime=build_runtime(settings))
    config = make_uvicorn_config(
        wrap(app) if wrap else app,
        host="127.0.0.1",
        port=0,
        cert=directory / "hub.pem",
        key=directory / "hub.key",
        ca_bundle=pki.ca.cert_path,
        log_config=None,
    )
    return run_in_thread(config)


def _target(url: str, pki: hub_fixtures.TestPki, *, peer: bool = True) -> ConformanceTarget:
    def credentials(code: str) -> Credentials:
        issued = pki.clients[code]
        assert issued.cert_path and issued.key_path
        return Credentials(issued.cert_path, issued.key_path)

    assert pki.ca.cert_path is not None
    return ConformanceTarget(
        hub_url=url,
        ca=pki.ca.cert_path,
        nppo=credentials("AA"),
        peer=credentials("BB") if peer else None,
    )


def _outcomes(report: Report) -> dict[str, Outcome]:
    return {check.name: check.outcome for check in report.checks}


def _evidence(report: Report, name: str) -> str:
    (check,) = [c for c in report.checks if c.name == name]
    return check.evidence


def test_our_hub_passes_every_check(
    hub_settings: tuple[HubSettings, Path], test_pki: hub_fixtures.TestPki
) -> None:
    settings, directory = hub_settings
    with _serve(settings, directory, test_pki) as url:
        report = run_conformance(_target(url, test_pki))
    failed = {c.name: c.evidence for c in report.checks if c.outcome is not Outcome.PASS}
    assert failed == {}
    assert (report.nppo, report.peer) == ("AA", "BB")
    assert len(report.checks) == 22
    assert "DOCTYPE declarations are not allowed" in _evidence(report, "error-hostile-content")


def test_without_a_peer_the_exchange_checks_are_skipped_and_the_rest_pass(
    hub_settings: tuple[HubSettings, Path], test_pki: hub_fixtures.TestPki
) -> None:
    settings, directory = hub_settings
    with _serve(settings, directory, test_pki) as url:
        report = run_conformance(_target(url, test_pki, peer=False))
    outcomes = _outcomes(report)
    assert report.passed
    assert outcomes["send"] is Outcome.SKIP
    assert "--peer-cert" in _evidence(report, "send")
    passed = {name for name, outcome in outcomes.items() if outcome is Outcome.PASS}
    assert passed >= {
        "identity",
        "anonymous-refused",
        "wsdl",
        "validation",
        "error-unknown-tracking-number",
        "signing-certificate",
    }


def test_a_hub_that_drops_acknowledgements_fails_with_findings(
    hub_settings: tuple[HubSettings, Path], test_pki: hub_fixtures.TestPki
) -> None:
    settings, directory = hub_settings
    with _serve(settings, directory, test_pki, DropsAcknowledgements) as url:
        report = run_conformance(_target(url, test_pki))
    outcomes = _outcomes(report)
    assert not report.passed
    assert outcomes["acknowledge-ok"] is Outcome.FAIL
    assert "is PendingDelivery, expected Delivered" in _evidence(report, "acknowledge-ok")
    assert outcomes["receive-as-importer"] is Outcome.FAIL
    # The acknowledgements it does not drop still work.
    assert outcomes["acknowledge-with-warnings"] is Outcome.PASS


def test_a_hub_that_mangles_headers_fails_with_findings(
    hub_settings: tuple[HubSettings, Path], test_pki: hub_fixtures.TestPki
) -> None:
    settings, directory = hub_settings
    with _serve(settings, directory, test_pki, MangledHeaders) as url:
        report = run_conformance(_target(url, test_pki))
    outcomes = _outcomes(report)
    assert outcomes["identity"] is Outcome.PASS
    assert outcomes["send"] is Outcome.FAIL
    assert "HubDeliveryNumber" in _evidence(report, "send")
    assert outcomes["duplicate"] is Outcome.SKIP
    assert "depends on send" in _evidence(report, "duplicate")


def test_the_command_writes_a_report_signed_with_the_nppo_key(
    hub_settings: tuple[HubSettings, Path],
    test_pki: hub_fixtures.TestPki,
    tmp_path: Path,
) -> None:
    settings, directory = hub_settings
    aa, bb = test_pki.clients["AA"], test_pki.clients["BB"]
    with _serve(settings, directory, test_pki) as url:
        result = CliRunner().invoke(
            conformance,
            [
                "--hub", url, "--cert", str(aa.cert_path), "--key", str(aa.key_path),
                "--ca", str(test_pki.ca.cert_path), "--peer-cert", str(bb.cert_path),
                "--peer-key", str(bb.key_path), "--out", str(tmp_path),
            ],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "passed (22 pass, 0 fail, 0 skip)" in result.output
    payload = (tmp_path / "report.json").read_bytes()
    signature = (tmp_path / "report.json.jws").read_text()
    report = json.loads(payload)
    assert report["passed"] is True and report["nppo"] == "AA"
    assert "| send | pass |" in (tmp_path / "report.md").read_text()

    signer = verify_report(payload, signature)
    assert signer.fingerprint(hashes.SHA256()).hex() == aa.fingerprint
    with pytest.raises(InvalidSignature):
        verify_report(payload.replace(b'"passed": true', b'"passed": false'), signature)
