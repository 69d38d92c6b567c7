"""`python -m ephyto_cli` runs the `ephyto` command (useful where the script is not on PATH)."""

from ephyto_cli.main import cli

cli()
