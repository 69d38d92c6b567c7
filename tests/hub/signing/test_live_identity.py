"""Client-certificate lifecycle on a real server: the hub under uvicorn with mutual TLS on
127.0.0.1, PostgreSQL behind, national systems as httpx clients with their own certificates.

- Revocation takes effect at once: the very next request, even on a kept-alive TLS connection
  that was authenticated before, is refused.
- Rollover: a second certificate becomes valid while the first is still valid, the first then
  expires; a client that switches to the new one once it is valid never sees a refusal.
"""

import asyncio
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from ephyto_core._pki import IssuedCertificate, issue_client_certificate, issue_server_certificate
from hub.app import create_app
from hub.database import unit_of_work
from hub.identity.server import run_in_thread
from hub.identity.tls import make_uvicorn_config
from hub.runtime import build_runtime
from hub.settings import HubSettings
from tests.hub import conftest as hub_fixtures
from tests.hub.rest.payloads import submission
from tests.hub.signing.conftest import SigningPki

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class LiveHub:
    url: str
    settings: HubSettings
    ca: IssuedCertificate


async def _register(settings: HubSettings, clients: dict[str, list[IssuedCertificate]]) -> None:
    runtime = build_runtime(settings)
    try:
        async with unit_of_work(runtime.sessionmaker) as session:
            for code, certificates in clients.items():
                await runtime.nppos.register(session, code=code, name=f"NPPO {code}")
                for certificate in certificates:
                    await runtime.nppos.add_client_certificate(
                        session, code=code, certificate=certificate.cert_pem()
                    )
    finally:
        await runtime.close()


async def _revoke(settings: HubSettings, fingerprint: str) -> None:
    runtime = build_runtime(settings)
    try:
        async with unit_of_work(runtime.sessionmaker) as session:
            await runtime.nppos.revoke_client_certificate(
                session, fingerprint=fingerprint, reason="key compromise"
            )
    finally:
        await runtime.close()


Serve = Callable[[dict[str, list[IssuedCertificate]]], LiveHub]


@pytest.fixture
def serve(postgres_database_url: str, tmp_path: Path, signing_pki: SigningPki) -> Iterator[Serve]:
    """`serve(clients)`: register NPPOs with their certificates, start the hub over mTLS."""
    stack = ExitStack()

    def start(clients: dict[str, list[IssuedCertificate]]) -> LiveHub:
        assert signing_pki.seal.cert_path and signing_pki.seal.key_path
        # No trusted proxies: the client certificate can only come from the TLS handshake.
        settings = HubSettings(
            database_url=postgres_database_url,
            data_dir=tmp_path,
            seal_cert=signing_pki.seal.cert_path,
            seal_key=signing_pki.seal.key_path,
        )
        asyncio.run(_register(settings, clients))
        server = issue_server_certificate(signing_pki.ca).save(tmp_path, "hub-tls")
        assert signing_pki.ca.cert_path is not None
        config = make_uvicorn_config(
            create_app(runtime=build_runtime(settings)),
            host="127.0.0.1",
            port=0,
            cert=server.cert_path,
            key=server.key_path,
            ca_bundle=signing_pki.ca.cert_path,
            log_config=None,
        )
        url = stack.enter_context(run_in_thread(config))
        return LiveHub(url=url, settings=settings, ca=signing_pki.ca)

    with stack:
        yield start


def national_system(hub: LiveHub, certificate: IssuedCertificate) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(hub.ca.cert_path))
    context.load_cert_chain(str(certificate.cert_path), str(certificate.key_path))
    return httpx.Client(verify=context, base_url=f"{hub.url}/api/v1", timeout=10)


def test_a_revoked_client_certificate_is_refused_on_the_next_request(
    serve: Serve, test_pki: hub_fixtures.TestPki, tmp_path: Path
) -> None:
    aa = issue_client_certificate(test_pki.ca, nppo_code="AA").save(tmp_path, "aa")
    bb = issue_client_certificate(test_pki.ca, nppo_code="BB").save(tmp_path, "bb")
    hub = serve({"AA": [aa], "BB": [bb]})

    with national_system(hub, aa) as client:
        assert client.get("/nppos/me").status_code == 200
        sent = client.post("/envelopes", json=submission("AA-2026-0300"))
        assert sent.status_code == 201, sent.text

        asyncio.run(_revoke(hub.settings, aa.fingerprint))

        # Same client, same kept-alive TLS connection it was authenticated on.
        refused = client.get("/nppos/me")
        assert refused.status_code == 401
        assert "revoked" in refused.json()["detail"]
        assert client.post("/envelopes", json=submission("AA-2026-0301")).status_code == 401
    with national_system(hub, bb) as client:
        waiting = client.get("/boxes/mine/envelopes").json()
        assert [h["nppo_certificate_number"] for h in waiting] == ["AA-2026-0300"]


def test_client_certificate_rollover_never_stops_traffic(
    serve: Serve, test_pki: hub_fixtures.TestPki, tmp_path: Path
) -> None:
    start = datetime.now(UTC).replace(microsecond=0)
    old = issue_client_certificate(
        test_pki.ca,
        nppo_code="AA",
        not_before=start - timedelta(hours=1),
        not_after=start + timedelta(seconds=8),
    ).save(tmp_path, "aa-old")
    new = issue_client_certificate(
        test_pki.ca, nppo_code="AA", not_before=start + timedelta(seconds=4), days=30
    ).save(tmp_path, "aa-new")
    hub = serve({"AA": [old, new], "BB": []})
    switch_at = new.certificate.not_valid_before_utc + timedelta(milliseconds=500)
    end_at = old.certificate.not_valid_after_utc + timedelta(seconds=2)
    assert switch_at < old.certificate.not_valid_after_utc  # the windows overlap

    assert refused(hub, new), "the new certificate must not work before its validity"

    used: list[str] = []
    failures: list[str] = []
    n = 0
    while datetime.now(UTC) < end_at:
        # The national system's own rule: the new certificate as soon as it is valid.
        current = new if datetime.now(UTC) >= switch_at else old
        # A fresh connection each time: the handshake is checked, not just a kept session.
        with national_system(hub, current) as client:
            answer = client.post("/envelopes", json=submission(f"AA-2026-04{n:02d}"))
        if answer.status_code != 201:
            failures.append(f"{n} with {'new' if current is new else 'old'}: {answer.text}")
        used.append("new" if current is new else "old")
        n += 1
        time.sleep(0.2)

    assert failures == []
    assert "old" in used and "new" in used
    assert refused(hub, old), "the old certificate must not work after its validity"


def refused(hub: LiveHub, certificate: IssuedCertificate) -> bool:
    """Refused at the TLS handshake, or by the hub."""
    try:
        with national_system(hub, certificate) as client:
            return client.get("/nppos/me").status_code == 401
    except httpx.TransportError:
        return True
