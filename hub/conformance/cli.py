"""`ephyto conformance`: run the onboarding checks against a hub and write a signed report."""

from pathlib import Path

import click

from ephyto_core._pki import load_certificate, load_private_key
from hub.conformance.checks import ConformanceTarget, run_conformance
from hub.conformance.client import Credentials
from hub.conformance.report import sign_report

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command()
@click.option("--hub", "hub_url", required=True, help="The hub's address, e.g. https://hub:8443.")
@click.option("--cert", required=True, type=_FILE, help="The NPPO's TLS client certificate.")
@click.option("--key", required=True, type=_FILE, help="Its private key (also signs the report).")
@click.option(
    "--ca", required=True, type=_FILE, help="The CA bundle the hub's certificate chains to."
)
@click.option("--peer-cert", type=_FILE, help="A second test NPPO's client certificate.")
@click.option("--peer-key", type=_FILE, help="Its private key.")
@click.option(
    "--certificate",
    type=_FILE,
    help="The NPPO's own certificate XML to send (its ID is replaced); default: an example 851.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("conformance-report"),
    show_default=True,
    help="Folder for report.json, report.json.jws and report.md.",
)
def conformance(
    hub_url: str,
    cert: Path,
    key: Path,
    ca: Path,
    peer_cert: Path | None,
    peer_key: Path | None,
    certificate: Path | None,
    out: Path,
) -> None:
    """Check this NPPO's integration with a hub (in test mode): send, receive, the three
    acknowledgements, duplicates, error paths, signing certificates. Exits 1 if a check fails."""
    if (peer_cert is None) != (peer_key is None):
        raise click.UsageError("--peer-cert and --peer-key go together")
    peer = Credentials(peer_cert, peer_key) if peer_cert and peer_key else None
    target = ConformanceTarget(
        hub_url=hub_url, ca=ca, nppo=Credentials(cert, key), peer=peer, certificate=certificate
    )
    report = run_conformance(target)
    out.mkdir(parents=True, exist_ok=True)
    payload = report.to_json()
    (out / "report.json").write_bytes(payload)
    signature = sign_report(
        payload,
        key=load_private_key(key.read_bytes()),
        certificate=load_certificate(cert.read_bytes()),
    )
    (out / "report.json.jws").write_text(signature + "\n")
    (out / "report.md").write_text(report.to_markdown())
    for check in report.checks:
        click.echo(f"{check.outcome.value:4}  {check.name}: {check.evidence}")
    summary = ", ".join(f"{n} {o}" for o, n in report.summary().items())
    click.echo(f"{'passed' if report.passed else 'FAILED'} ({summary}); report in {out}")
    if not report.passed:
        raise SystemExit(1)
