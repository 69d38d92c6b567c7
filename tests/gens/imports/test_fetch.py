"""Fetching: each envelope stored once, an unverifiable seal shown as such, and the cron command."""

import re
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from fastapi import FastAPI

from ephyto_core._pki import IssuedCertificate, create_ca, issue_seal_certificate
from generic_national_system.app import create_app
from generic_national_system.cli import _fetch_all, gens
from generic_national_system.runtime import GensRuntime, build_runtime
from tests.gens.conftest import Browser, BrowserFactory, TenantUsers, gens_settings
from tests.gens.forms import fetch, issue_and_send, received_links


async def test_fetching_twice_stores_each_envelope_once(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    await issue_and_send(await browser("ke-officer"), import_country="PE")
    inspector = await browser("pe-inspector")
    first = await fetch(inspector)
    assert "new=1&known=0" in first.headers["location"]
    second = await fetch(inspector)
    assert "new=0&known=1" in second.headers["location"]
    assert len(received_links((await inspector.get("/imports")).text)) == 1


async def test_a_seal_that_does_not_verify_with_the_pinned_certificate_is_flagged(
    gens_database_url: str,
    tmp_path: Path,
    hub_app: FastAPI,
    tenants: dict[str, TenantUsers],
    browser: BrowserFactory,
) -> None:
    await issue_and_send(await browser("ke-officer"), import_country="PE")
    # This GeNS pins a seal certificate that is not the hub's.
    stranger = issue_seal_certificate(create_ca()).save(tmp_path, "stranger-seal")
    runtime = build_runtime(
        gens_settings(gens_database_url, tmp_path / "pinned", hub_seal_cert=stranger.cert_path),
        hub_transport=httpx.ASGITransport(app=hub_app),
    )
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(runtime=runtime)),
            base_url="http://gens.test",
        ) as client:
            inspector = Browser(client)
            assert (await inspector.sign_in("pe-inspector")).status_code == 303
            fetched = await fetch(inspector)
            assert "unverified=1" in fetched.headers["location"]
            listing = (await inspector.get(fetched.headers["location"])).text
            assert '<strong class="err">✗</strong>' in listing
            [link] = received_links(listing)
            page = (await inspector.get(link)).text
            seal = re.search(r'<li id="seal">([^<]*)</li>', page)
            assert seal and "NO verificado" in seal.group(1)  # a Spanish-speaking inspector
            assert '<div class="box warn" id="checks">' in page
    finally:
        await runtime.close()


async def test_the_fetch_command_fetches_for_every_tenant_and_acknowledges_responses(
    gens_runtime: GensRuntime,
    tenants: dict[str, TenantUsers],
    browser: BrowserFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await issue_and_send(await browser("ke-officer"), import_country="PE")
    failures = await _fetch_all(gens_runtime, ())
    out = capsys.readouterr().out
    assert failures == 0
    assert "PE: 1 new, 0 already here, 0 without a valid seal" in out
    assert "KE: 0 new" in out
    assert await _fetch_all(gens_runtime, ("ZZ",)) == 1
    assert "ZZ: no such active tenant" in capsys.readouterr().err


def test_the_fetch_command_fails_for_cron_when_the_hub_cannot_be_reached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pki: dict[str, IssuedCertificate]
) -> None:
    monkeypatch.setenv("EPHYTO_GENS_DATA_DIR", str(tmp_path))
    # Nothing listens on port 9 of the loopback address.
    monkeypatch.setenv("EPHYTO_GENS_HUB_URL", "http://127.0.0.1:9/api/v1")
    monkeypatch.setenv("EPHYTO_GENS_HUB_CLIENT_CERT_HEADER", "X-Client-Cert")
    runner = CliRunner()
    assert pki["KE"].cert_path is not None
    created = runner.invoke(
        gens, ["create-tenant", "KE", "Kenya NPPO", "--client-cert", str(pki["KE"].cert_path)]
    )
    assert created.exit_code == 0, created.output
    result = runner.invoke(gens, ["fetch"])
    assert result.exit_code == 1
    assert "KE:" in result.output and "hub" in result.output
