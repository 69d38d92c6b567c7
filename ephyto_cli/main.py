"""Top-level ``ephyto`` command. Each area registers its own subcommands here."""

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ephyto-hub")
def cli() -> None:
    """Open ePhyto hub and Generic ePhyto National System."""


def _register() -> None:
    # Imported here, not at module top, so `ephyto --help` stays fast and each area's heavy
    # imports load only when its command runs.
    from ephyto_cli.cert_expiry import expiry
    from ephyto_cli.certs import certs
    from ephyto_cli.demo import demo
    from ephyto_cli.evidence import evidence
    from ephyto_cli.validate import validate
    from generic_national_system.cli import gens
    from hub.cli import hub, nppo
    from hub.conformance.cli import conformance
    from hub.operators.cli import operator

    certs.add_command(expiry)
    for command in (validate, certs, hub, nppo, operator, evidence, gens, demo, conformance):
        cli.add_command(command)


_register()
