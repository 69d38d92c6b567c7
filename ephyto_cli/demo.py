"""`ephyto demo`: a working hub with two NPPOs, and GeNS with a tenant for each, in one command.

It creates (once, then reuses) a development CA, the hub's server and seal certificates and client
and signing certificates for the demo NPPOs, registers them, starts the hub with mutual TLS, and
writes `demo-manifest.json` so that scripts and people can connect at once. Database and broker
follow the usual `EPHYTO_*` settings, so the same demo runs on PostgreSQL and RabbitMQ too.
"""

import asyncio
import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ephyto_core._pki import (
    IssuedCertificate,
    create_ca,
    issue_client_certificate,
    issue_seal_certificate,
    issue_server_certificate,
    issue_signing_certificate,
    load_issued,
)
from hub.database import unit_of_work
from hub.migrate import upgrade_to_head
from hub.nppos import repository as nppo_repository
from hub.runtime import build_runtime
from hub.settings import HubSettings

DEFAULT_DATA_DIR = Path(".ephyto") / "demo"
MANIFEST_NAME = "demo-manifest.json"


@dataclass(frozen=True)
class DemoNppo:
    code: str
    name: str


DEMO_NPPOS = (
    DemoNppo(code="AA", name="Demo NPPO of Aaland (exporter)"),
    DemoNppo(code="BB", name="Demo NPPO of Beeland (importer)"),
)


def _issued(directory: Path, stem: str, make: Any) -> IssuedCertificate:
    """The certificate saved as `<stem>.pem/.key` in `directory`, issued on first use."""
    cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}.key"
    if cert_path.exists() and key_path.exists():
        return load_issued(cert_path, key_path)
    issued: IssuedCertificate = make().save(directory, stem)
    return issued


@dataclass(frozen=True)
class DemoPki:
    ca: IssuedCertificate
    server: IssuedCertificate
    seal: IssuedCertificate
    clients: dict[str, IssuedCertificate]
    signers: dict[str, IssuedCertificate]


def prepare_pki(directory: Path) -> DemoPki:
    directory.mkdir(parents=True, exist_ok=True)
    ca = _issued(directory, "ca", create_ca)
    return DemoPki(
        ca=ca,
        server=_issued(directory, "hub-server", lambda: issue_server_certificate(ca)),
        seal=_issued(directory, "hub-seal", lambda: issue_seal_certificate(ca)),
        clients={
            n.code: _issued(
                directory,
                f"{n.code.lower()}-client",
                lambda n=n: issue_client_certificate(ca, nppo_code=n.code, nppo_name=n.name),
            )
            for n in DEMO_NPPOS
        },
        signers={
            n.code: _issued(
                directory,
                f"{n.code.lower()}-signing",
                lambda n=n: issue_signing_certificate(ca, nppo_code=n.code, nppo_name=n.name),
            )
            for n in DEMO_NPPOS
        },
    )


async def register_demo_nppos(settings: HubSettings, pki: DemoPki) -> None:
    """Register the demo NPPOs and their certificates; already-registered ones are kept."""
    runtime = build_runtime(settings)
    try:
        async with unit_of_work(runtime.sessionmaker) as session:
            for demo in DEMO_NPPOS:
                if await nppo_repository.get_by_code(session, demo.code) is None:
                    await runtime.nppos.register(session, code=demo.code, name=demo.name)
                    await runtime.nppos.add_client_certificate(
                        session, code=demo.code, certificate=pki.clients[demo.code].cert_pem()
                    )
                    await runtime.nppos.add_signing_certificate(
                        session, code=demo.code, certificate=pki.signers[demo.code].cert_pem()
                    )
    finally:
        await runtime.close()


def demo_settings(data_dir: Path, pki: DemoPki, *, hub_port: int) -> HubSettings:
    assert pki.server.cert_path and pki.server.key_path and pki.ca.cert_path
    assert pki.seal.cert_path and pki.seal.key_path
    # Explicit values win over the environment; database and broker URLs still come from it.
    return HubSettings(
        data_dir=data_dir,
        public_url=f"https://127.0.0.1:{hub_port}",
        tls_cert=pki.server.cert_path,
        tls_key=pki.server.key_path,
        tls_client_ca=pki.ca.cert_path,
        # The hub seals what it accepts with the demo PKI's seal: `xmlsec1 --verify
        # --trusted-pem <ca_cert> seal.xml` checks a seal against the manifest's CA.
        seal_cert=pki.seal.cert_path,
        seal_key=pki.seal.key_path,
        # One command, one process: the routing workers run in the hub, with RabbitMQ too.
        workers_in_process=True,
    )


def build_manifest(settings: HubSettings, pki: DemoPki, *, hub_url: str) -> dict[str, Any]:
    soap_url = f"{hub_url}{settings.soap_path}"
    return {
        "hub": {
            "soap_url": soap_url,
            "wsdl_url": f"{soap_url}?wsdl",
            "rest_url": f"{hub_url}/api/v1",
            "openapi_url": f"{hub_url}/api/v1/openapi.json",
            "ca_cert": str(pki.ca.cert_path),
            "seal_cert": str(pki.seal.cert_path),
            "database": settings.sqlalchemy_url.split("@")[-1],
        },
        "nppos": [
            {
                "code": n.code,
                "name": n.name,
                "client_cert": str(pki.clients[n.code].cert_path),
                "client_key": str(pki.clients[n.code].key_path),
                "signing_cert": str(pki.signers[n.code].cert_path),
                "signing_key": str(pki.signers[n.code].key_path),
            }
            for n in DEMO_NPPOS
        ],
    }


@click.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DATA_DIR,
    show_default=True,
    help="Where keys, the SQLite database and demo-manifest.json go.",
)
@click.option("--hub-port", type=int, default=8443, show_default=True)
@click.option("--gens-port", type=int, default=8080, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
def demo(data_dir: Path, hub_port: int, gens_port: int, host: str) -> None:
    """Start a demo hub with two NPPOs (AA, BB) over mutual TLS, GeNS with a tenant for each
    (plain HTTP on --gens-port), and write the manifest."""
    import uvicorn

    from generic_national_system.app import create_app as create_gens_app
    from generic_national_system.demo import DemoTenant, create_demo_tenants
    from generic_national_system.demo import demo_settings as gens_demo_settings
    from hub.operators.demo import create_demo_operators
    from hub.server import hub_uvicorn_config

    data_dir = data_dir.resolve()
    pki = prepare_pki(data_dir / "pki")
    settings = demo_settings(data_dir, pki, hub_port=hub_port)
    upgrade_to_head(settings.sqlalchemy_url)
    asyncio.run(register_demo_nppos(settings, pki))
    hub_url = f"https://{host}:{hub_port}"
    manifest = build_manifest(settings, pki, hub_url=hub_url)
    manifest["operator"] = asyncio.run(create_demo_operators(settings, hub_url=hub_url))
    # GeNS: tenant AA exports from Kenya, BB is the Netherlands (certificates name real
    # countries; AA and BB are only the demo hub's NPPO codes).
    gens_url = f"http://{host}:{gens_port}"
    assert pki.ca.cert_path and pki.seal.cert_path
    gens_settings = gens_demo_settings(
        data_dir / "gens",
        hub_url=hub_url,
        ca_cert=pki.ca.cert_path,
        seal_cert=pki.seal.cert_path,
        public_url=gens_url,
    )
    gens_tenants = create_demo_tenants(
        gens_settings,
        [
            DemoTenant(
                code=n.code,
                name=n.name,
                country_code=country,
                client_cert=pki.clients[n.code].cert_path,
                client_key=pki.clients[n.code].key_path,
                place_of_issue=place,
            )
            for n, country, place in zip(
                DEMO_NPPOS, ("KE", "NL"), ("Nairobi", "Rotterdam"), strict=True
            )
        ],
    )
    manifest["gens"] = {"url": gens_url, "tenants": gens_tenants}
    manifest_path = data_dir / MANIFEST_NAME
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    aa = manifest["nppos"][0]
    click.echo(
        f"ePhyto demo hub on {hub_url} (database: {manifest['hub']['database']})\n"
        f"  manifest: {manifest_path}\n"
        f"  WSDL:     {manifest['hub']['wsdl_url']}\n"
        f"  try:      curl --cacert {manifest['hub']['ca_cert']} --cert {aa['client_cert']} "
        f"--key {aa['client_key']} {manifest['hub']['rest_url']}/nppos/me\n"
        f"  GeNS:     {gens_url} (users and passwords in the manifest)\n"
        "  stop with Ctrl+C"
    )
    servers = (
        uvicorn.Server(hub_uvicorn_config(settings, host=host, port=hub_port)),
        uvicorn.Server(uvicorn.Config(create_gens_app(gens_settings), host=host, port=gens_port)),
    )

    async def serve_both() -> None:
        # Both servers in one loop; Ctrl+C stops one, whose handler passes it on to the other.
        await asyncio.gather(*(server.serve() for server in servers))

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_both())
