"""`ephyto demo`, the README's first command, as a newcomer runs it: a real process, real mTLS."""

import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ephyto_core.certificate import build_certificate_xml
from tests.core.factories import make_certificate


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"demo exited early with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"demo did not listen on {port} within {timeout} s")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data_dir = tmp_path_factory.mktemp("demo")
    port, gens_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EPHYTO_")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ephyto_cli",
            "demo",
            "--data-dir",
            str(data_dir),
            "--hub-port",
            str(port),
            "--gens-port",
            str(gens_port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_listening(port, process)
        _wait_listening(gens_port, process)
        manifest: dict[str, Any] = json.loads((data_dir / "demo-manifest.json").read_text())
        manifest["_process"] = process
        yield manifest
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        assert process.stdout is not None
        process.stdout.close()


def _client(manifest: dict[str, Any], code: str) -> httpx.Client:
    nppo = next(n for n in manifest["nppos"] if n["code"] == code)
    context = ssl.create_default_context(cafile=manifest["hub"]["ca_cert"])
    context.load_cert_chain(nppo["client_cert"], nppo["client_key"])
    return httpx.Client(base_url=manifest["hub"]["rest_url"], verify=context, timeout=30)


def test_manifest_names_what_a_client_needs(demo: dict[str, Any]) -> None:
    hub = demo["hub"]
    assert hub["soap_url"].endswith("/hub/DeliveryService")
    assert hub["wsdl_url"] == hub["soap_url"] + "?wsdl"
    for path in (hub["ca_cert"], hub["seal_cert"]):
        assert Path(path).is_absolute() and Path(path).is_file()
    assert [n["code"] for n in demo["nppos"]] == ["AA", "BB"]
    for nppo in demo["nppos"]:
        assert Path(nppo["client_cert"]).is_file() and Path(nppo["client_key"]).is_file()


def test_demo_hub_exchanges_a_certificate_over_mutual_tls(demo: dict[str, Any]) -> None:
    certificate = build_certificate_xml(
        make_certificate(exporter="NZ", importer="FR", certificate_number="DEMO-0001")
    )
    with _client(demo, "AA") as aa, _client(demo, "BB") as bb:
        assert aa.get("/nppos/me").json()["code"] == "AA"
        sent = aa.post(
            "/envelopes",
            json={
                "from": "AA",
                "to": "BB",
                "certificate_type": 851,
                "certificate_status": 70,
                "nppo_certificate_number": "DEMO-0001",
                "content": certificate.decode(),
            },
        )
        assert sent.status_code == 201, sent.text
        number = sent.json()["hub_delivery_number"]
        waiting = bb.get("/boxes/mine/envelopes").json()
        assert number in [h["hub_delivery_number"] for h in waiting]
        assert (
            bb.get(f"/envelopes/{number}", headers={"Accept": "application/xml"}).content
            == certificate
        )
        acked = bb.post(f"/envelopes/{number}/acknowledgement", json={"kind": "ok"})
        assert acked.status_code == 200, acked.text
        assert aa.get(f"/envelopes/{number}/tracking").json()["tracking_info"] == "Delivered"


def test_demo_hub_refuses_a_caller_without_a_client_certificate(demo: dict[str, Any]) -> None:
    context = ssl.create_default_context(cafile=demo["hub"]["ca_cert"])
    with httpx.Client(verify=context, timeout=30) as anonymous:
        answer = anonymous.get(demo["hub"]["rest_url"] + "/nppos/me")
    assert answer.status_code == 401
    assert "no client certificate" in answer.json()["detail"]
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_demo_serves_the_wsdl_with_its_own_address(demo: dict[str, Any]) -> None:
    context = ssl.create_default_context(cafile=demo["hub"]["ca_cert"])
    with httpx.Client(verify=context, timeout=30) as anonymous:
        wsdl = anonymous.get(demo["hub"]["wsdl_url"]).text
    assert f'location="{demo["hub"]["soap_url"]}"' in wsdl


def _gens_sign_in(client: httpx.Client, username: str, password: str) -> httpx.Response:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, page.text[:500]
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token.group(1)}
    )


def test_demo_gens_has_a_tenant_per_nppo_whose_users_sign_in_and_reach_the_hub(
    demo: dict[str, Any],
) -> None:
    gens = demo["gens"]
    assert [t["code"] for t in gens["tenants"]] == ["AA", "BB"]
    # The tenants' certificates name real countries, not the hub's demo codes.
    assert [t["country"] for t in gens["tenants"]] == ["KE", "NL"]
    for tenant in gens["tenants"]:
        roles = {u["role"] for u in tenant["users"]}
        assert roles == {"applicant", "inspector", "officer", "admin"}
    inspector = next(u for u in gens["tenants"][1]["users"] if u["role"] == "inspector")
    with httpx.Client(base_url=gens["url"], timeout=30) as client:
        signed_in = _gens_sign_in(client, inspector["username"], inspector["password"])
        assert signed_in.status_code == 303, signed_in.text[:500]
        page = client.get("/imports")
        assert page.status_code == 200 and "BB" in page.text
        # "Fetch from hub" makes GeNS call the demo hub over mutual TLS as BB.
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        fetched = client.post("/imports/fetch", data={"csrf_token": token.group(1)})
        assert fetched.status_code == 303, fetched.text[:1000]
        assert "new=" in fetched.headers["location"]
